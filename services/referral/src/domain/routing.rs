//! How a referral is sourced (its route), and whether a framework and lot would take it, as
//! far as the replica of the competition service's frameworks can tell. No I/O.

use hub_platform::FieldError;

use crate::ids::LotId;

hub_platform::code_enum! {
    /// How the placement will be sourced (the options appraisal).
    pub enum ReferralRoute {
        MiniCompetition,
        PreselectedMiniCompetition,
        DirectAward,
        OtherPurchasingSystem,
        SpotPurchase,
    }
}

impl ReferralRoute {
    /// Routes the competition service acts on (a competition or a direct award on the
    /// referral's framework and lot); the others source the placement elsewhere.
    pub fn competed(self) -> bool {
        matches!(
            self,
            Self::MiniCompetition | Self::PreselectedMiniCompetition | Self::DirectAward
        )
    }
}

/// What the referral service knows of a framework or purchasing system from the competition
/// service's `competition.framework_published` (its replica).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownFramework {
    pub partnership: String,
    pub purchasing_bodies: Vec<String>,
    pub lot_ids: Vec<LotId>,
}

/// Why a referral of `council` in `partnership` for `lot_id` of a framework would go
/// nowhere, as 422 field errors, judged from the replica (`known`; `None`: the replica has
/// not heard of the framework, so the competition service judges and returns the referral if
/// it cannot route it). Only routes the competition service acts on are checked
/// ([`ReferralRoute::competed`]).
pub fn routing_errors(
    known: Option<&KnownFramework>,
    partnership: &str,
    council: &str,
    lot_id: LotId,
) -> Vec<FieldError> {
    let Some(fw) = known else {
        return Vec::new();
    };
    let mut errors = Vec::new();
    if fw.partnership != partnership {
        errors.push(FieldError::new(
            "/framework_id",
            "partnership",
            format!(
                "the framework belongs to {}, not to {partnership}",
                fw.partnership
            ),
        ));
    } else if !fw.purchasing_bodies.iter().any(|b| b == council) {
        errors.push(FieldError::new(
            "/framework_id",
            "purchasing_body",
            format!("{council} is not one of the framework's purchasing bodies"),
        ));
    }
    if !fw.lot_ids.contains(&lot_id) {
        errors.push(FieldError::new(
            "/lot_id",
            "in_framework",
            "not a lot of the framework",
        ));
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_referral_that_would_go_nowhere_is_refused_naming_the_field() {
        let (lot1, lot2, lot9) = (LotId::new(), LotId::new(), LotId::new());
        let fw = KnownFramework {
            partnership: "LCR-PPA".into(),
            purchasing_bodies: vec!["E08000014".into(), "E06000006".into()],
            lot_ids: vec![lot1],
        };
        let rules = |p, c, l| -> Vec<(String, String)> {
            routing_errors(Some(&fw), p, c, l)
                .into_iter()
                .map(|e| (e.field, e.rule))
                .collect()
        };
        assert!(rules("LCR-PPA", "E08000014", lot1).is_empty());
        let pair = |f: &str, r: &str| (f.to_owned(), r.to_owned());
        assert_eq!(
            rules("LCR-PPA", "E08000012", lot1),
            [pair("/framework_id", "purchasing_body")]
        );
        assert_eq!(
            rules("AIM", "E08000014", lot1),
            [pair("/framework_id", "partnership")]
        );
        assert_eq!(
            rules("LCR-PPA", "E08000014", lot2),
            [pair("/lot_id", "in_framework")]
        );
        // Not heard of yet: the competition service judges it (and returns it if need be).
        assert!(routing_errors(None, "LCR-PPA", "E08000012", lot9).is_empty());
        assert!(
            ReferralRoute::MiniCompetition.competed() && !ReferralRoute::SpotPurchase.competed()
        );
    }
}
