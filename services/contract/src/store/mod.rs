//! Tables and queries of the contract service.

pub mod blocks;
pub mod ipa;
pub mod orders;
pub mod placements;
pub mod referral_facts;
pub mod service_contracts;

pub use ipa::sweep_ipa_reviews;
pub use orders::{OrderRow, find_order, order_for_competition, sweep_overdue_orders};
pub use placements::{PlacementRow, find_placement, placement_for_order};

use hub_platform::{Principal, Problem};

/// A row only some callers may see. To anyone else it does not exist: reading it is 404, as
/// for an id that was never stored, and lists leave it out.
pub trait Visible {
    /// What the row is, as a 404 names it (`order`, `block contract`, …).
    const WHAT: &'static str;

    /// The who-sees-what rule for this kind of row.
    fn visible_to(&self, who: &Principal) -> bool;
}

/// The row found, if `who` may see it; 404 when there is none or `who` may not see it.
pub fn if_visible<T: Visible>(who: &Principal, found: Option<T>) -> Result<T, Problem> {
    found
        .filter(|r| r.visible_to(who))
        .ok_or_else(|| Problem::not_found(T::WHAT))
}

/// The rows `who` may see, in their order.
pub fn only_visible<T: Visible>(who: &Principal, rows: Vec<T>) -> Vec<T> {
    rows.into_iter().filter(|r| r.visible_to(who)).collect()
}
