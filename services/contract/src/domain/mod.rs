//! Orders, placements and Individual Placement Agreements: their rules, with no I/O.
//!
//! * [`orders`]: an order's life (issued → signed or declined), when it is due back signed,
//!   emergency timescales, variations.
//! * [`placements`]: starting and ending a placement.
//! * [`ipa`]: Individual Placement Agreements, their versions and reviews.
//! * [`stability`]: placement stability figures per council.
//! * [`working_days`]: England and Wales working days and bank holidays.

pub mod blocks;
pub mod ipa;
pub mod orders;
pub mod placements;
pub mod service_contracts;
pub mod stability;
pub mod working_days;

use hub_platform::{FieldError, Principal, Problem, Role};

pub use blocks::{Bed, BedStay, BlockContract, BlockExtension};
pub use ipa::{Ipa, IpaReview, IpaVersion};
pub use orders::{Order, OrderStatus, OrderVariation, SignOrder, emergency_due_by, order_due_by};
pub use placements::{NewPlacement, Placement, PlacementStatus};
pub use service_contracts::{HistoryEntry, ServiceContract};

/// Something only some callers may see. To anyone else it does not exist: reading it is 404,
/// as for an id that was never stored, and lists leave it out.
pub trait Visible {
    /// What it is, as a 404 names it (`order`, `block contract`, …).
    const WHAT: &'static str;

    /// The who-sees-what rule for this kind of thing.
    fn visible_to(&self, who: &Principal) -> bool;
}

/// The one found, if `who` may see it; 404 when there is none or `who` may not see it.
pub fn if_visible<T: Visible>(who: &Principal, found: Option<T>) -> Result<T, Problem> {
    found
        .filter(|r| r.visible_to(who))
        .ok_or_else(|| Problem::not_found(T::WHAT))
}

/// The ones `who` may see, in their order.
pub fn only_visible<T: Visible>(who: &Principal, all: Vec<T>) -> Vec<T> {
    all.into_iter().filter(|r| r.visible_to(who)).collect()
}

/// Who may see an order (and the placement made under it): the staff of the council that
/// placed it, and the provider it was awarded to. Everyone else gets 404.
pub fn may_see(who: &Principal, council: &str, provider_id: &str) -> bool {
    is_council_staff(who, council) || (who.is_provider() && who.org == provider_id)
}

/// Whose orders, placements and IPAs a caller's lists are narrowed to in the query, as
/// `(council, provider_id)` with one of them set: a provider user's, its provider's; anyone
/// else's, its council's. [`may_see`] has the last word on each row.
pub fn listed_for(who: &Principal) -> (Option<&str>, Option<&str>) {
    if who.is_provider() {
        (None, Some(&who.org))
    } else {
        (Some(&who.org), None)
    }
}

/// A member of `council`'s staff (any council role), not a provider.
pub fn is_council_staff(who: &Principal, council: &str) -> bool {
    who.org == council && has_council_role(who)
}

/// Holds one of the roles of a council's staff.
pub fn has_council_role(who: &Principal) -> bool {
    [
        Role::Commissioner,
        Role::SocialWorker,
        Role::Finance,
        Role::Admin,
    ]
    .iter()
    .any(|r| who.has(*r))
}

/// A text field's rules: present (not blank) when `required`, at most `max` characters.
pub fn text_errors(field: &str, value: &str, required: bool, max: usize) -> Vec<FieldError> {
    if required && value.trim().is_empty() {
        vec![FieldError::new(field, "required", "must not be blank")]
    } else if value.chars().count() > max {
        vec![FieldError::new(
            field,
            "max_length",
            format!("at most {max} characters"),
        )]
    } else {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(org: &str, roles: &[Role]) -> Principal {
        Principal {
            sub: "u".into(),
            org: org.into(),
            roles: roles.iter().copied().collect(),
        }
    }

    #[test]
    fn orders_are_seen_by_their_council_staff_and_their_provider_only() {
        let (council, provider) = ("E08000014", "prov-care-assist");
        assert!(may_see(
            &principal(council, &[Role::SocialWorker]),
            council,
            provider
        ));
        assert!(may_see(
            &principal(council, &[Role::Finance]),
            council,
            provider
        ));
        assert!(may_see(
            &principal(provider, &[Role::Provider]),
            council,
            provider
        ));
        assert!(!may_see(
            &principal("E08000012", &[Role::Commissioner]),
            council,
            provider
        ));
        assert!(!may_see(
            &principal("prov-other", &[Role::Provider]),
            council,
            provider
        ));
        // A provider token naming the council, or a council token without a staff role, sees nothing.
        assert!(!may_see(
            &principal(council, &[Role::Provider]),
            council,
            provider
        ));
        assert!(!may_see(
            &principal(provider, &[Role::Commissioner]),
            council,
            provider
        ));
    }
}
