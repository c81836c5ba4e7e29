//! The scenarios of issue 7, one module each (the three PATCH scenarios share one).

pub mod anatomy;
pub mod patch;
pub mod push;
pub mod remote_write;
pub mod scrape;
pub mod sizes;
