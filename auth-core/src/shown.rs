//! Values from outside (tokens, providers), fit for the log: printable ASCII only, so that
//! nothing they hold can forge a log line, and at most `max` characters.

pub(crate) fn printable(text: &str, max: usize) -> String {
    text.chars()
        .take(max)
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .collect()
}
