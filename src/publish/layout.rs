//! Images spread over the posts of a thread, for the platforms that split a post with more
//! images than one post takes (X's `x_thread_image_layout`, Threads'
//! `threads_thread_media_layout`).

use crate::publish::publisher::PublishError;

/// Images per post: `layout` (`"3,2"`) when given, each at most `per_post` and adding up to
/// `count`; else full posts of `per_post`, then the rest. `field` names the layout's field
/// in the refusal.
pub fn image_layout(
    field: &str,
    layout: Option<&str>,
    count: usize,
    per_post: usize,
) -> Result<Vec<usize>, PublishError> {
    let Some(layout) = layout else {
        let mut groups = vec![per_post; count / per_post];
        if !count.is_multiple_of(per_post) {
            groups.push(count % per_post);
        }
        return Ok(groups);
    };
    let bad = || {
        PublishError::invalid(
            "invalid_field",
            format!(
                "{field} must list 0 to {per_post} images per post, adding up to the {count} images"
            ),
        )
    };
    let groups = layout
        .split(',')
        .map(|n| n.trim().parse::<usize>().map_err(|_| bad()))
        .collect::<Result<Vec<_>, _>>()?;
    if groups.iter().any(|n| *n > per_post) || groups.iter().sum::<usize>() != count {
        return Err(bad());
    }
    Ok(groups)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_layout_posts_are_filled_in_order() {
        assert_eq!(image_layout("f", None, 6, 4).unwrap(), [4, 2]);
        assert_eq!(image_layout("f", None, 45, 20).unwrap(), [20, 20, 5]);
        assert_eq!(image_layout("f", None, 20, 20).unwrap(), [20]);
        assert!(image_layout("f", None, 0, 4).unwrap().is_empty());
    }

    #[test]
    fn a_layout_is_read_and_checked() {
        assert_eq!(image_layout("f", Some("3, 0,2"), 5, 20).unwrap(), [3, 0, 2]);
        for bad in ["4,4", "2,x", "", "5", "-1,6"] {
            let e = image_layout("f_layout", Some(bad), 5, 4).unwrap_err();
            assert_eq!(e.code(), "invalid_field", "{bad}");
            assert!(e.to_string().contains("f_layout"), "{e}");
        }
    }
}
