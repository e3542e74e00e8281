//! Session load benchmark (in progress): see the next commit.

fn main() {}
