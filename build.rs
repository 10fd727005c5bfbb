// embed_migrations! does not notice new migration folders on its own, nor askama its config.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
    // askama reads its configuration at compile time.
    println!("cargo:rerun-if-changed=askama.toml");
}
