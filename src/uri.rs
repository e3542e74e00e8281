//! URI helpers. (in progress)
