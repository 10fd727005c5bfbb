use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    postgate::init_process();
    let cli = postgate::cli::Cli::parse();
    match postgate::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
