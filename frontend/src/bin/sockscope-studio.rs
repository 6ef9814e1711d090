//! The studio's entry point: the page with the playground and what-if forks. static/boot.js
//! loads this build instead of the player's when the address says `studio=1`.

fn main() {
    sockscope_frontend::start(Some(sockscope_frontend::studio::STUDIO));
}
