//! The C ABI: libxenctrl's live-patch functions with the exact prototypes of
//! Xen 4.14+'s `<xenctrl.h>` (Debian 12: 4.17).
//!
//! This layer only validates arguments (in libxenctrl's order), converts
//! pointers into bounded values, catches panics and sets `errno`: the
//! boundary once ([`boundary`]), then one file per family ([`mod@list`]: the
//! two list functions; [`manage`]: upload, get and the four actions). Every
//! function returns 0, or -1 with `errno` set; never a negative errno.

pub mod boundary;
pub mod list;
pub mod manage;
pub mod versions;

pub use boundary::{xc_interface, xc_interface_core};
pub use list::*;
pub use manage::*;
