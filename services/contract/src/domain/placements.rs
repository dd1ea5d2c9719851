//! Placements: a child living in a provider's home or with its carers, under an order or in
//! a bed of a block contract; how a placement ends. No I/O.
//!
//! A block-bed placement names the child's referral, and the referral must be a real one the
//! placing council may place there ([`block_bed_referral`]), judged on the service's own
//! replica of referral facts (fed by `referral.submitted`, `.withdrawn`, `.closed` and the
//! competition events; services never call each other):
//! * unknown to the service (never submitted, a made-up id, or not yet announced), or another
//!   council's: 404, as for a referral the caller may not see;
//! * of another partnership than the block contract's: 422 naming `/referral_id` (rule
//!   `partnership`);
//! * withdrawn, closed, in a competition still open (close it first: the invited providers were
//!   promised a decision), or already in a placement that goes on: 422 naming
//!   `/referral_id` (rule `placeable`).
//!
//! A submitted referral (any route: direct award, another purchasing system, spot purchase),
//! an awarded one, or one whose earlier placement has ended may be placed.

use chrono::{NaiveDate, NaiveDateTime};
use hub_platform::{FieldError, Pence, Principal, Problem, Role, http::Validate};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{Visible, is_council_staff, may_see, text_errors};
use crate::ids::{BlockContractId, HomeId, OrderId, PlacementId, ReferralId};

/// A placement: a child living in a provider's home (or with its carers) under an order, or
/// in a bed of a block contract; and how it ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Placement {
    pub id: PlacementId,
    /// The order it is made under (none for a block bed).
    pub order_id: Option<OrderId>,
    pub referral_id: ReferralId,
    pub council: String,
    pub partnership: String,
    pub provider_id: String,
    /// The core weekly fee now agreed (the order's or block's, then the latest approved IPA's).
    pub weekly_rate_pence: Pence,
    pub start_date: NaiveDate,
    pub status: PlacementStatus,
    pub created_by: String,
    pub created_by_org: String,
    pub created_at: NaiveDateTime,
    pub extras_weekly_pence: Pence,
    /// From when `weekly_rate_pence` and `extras_weekly_pence` apply (None: from the start).
    pub rate_effective_from: Option<NaiveDate>,
    pub block_contract_id: Option<BlockContractId>,
    pub bed: Option<i32>,
    pub home_id: Option<HomeId>,
    pub home_latitude: Option<f64>,
    pub home_longitude: Option<f64>,
    pub end_date: Option<NaiveDate>,
    pub end_reason: Option<EndReason>,
    /// Free text: kept in this service only.
    pub end_note: Option<String>,
    pub ended_by: Option<String>,
    pub ended_at: Option<NaiveDateTime>,
}

impl Placement {
    /// The block bed the child is in, if any.
    pub fn block_bed(&self) -> Option<(BlockContractId, u16)> {
        match (self.block_contract_id, self.bed) {
            (Some(c), Some(b)) => Some((c, u16::try_from(b).ok()?)),
            _ => None,
        }
    }

    /// `who` is of the placing council's staff with one of `roles`; 403 otherwise (its
    /// provider, the council's other staff).
    pub fn council_acts(&self, who: &Principal, roles: &[Role]) -> Result<(), Problem> {
        if is_council_staff(who, &self.council) && roles.iter().any(|r| who.has(*r)) {
            return Ok(());
        }
        Err(Problem::forbidden(format!(
            "needs the role {} in the placing council",
            roles
                .iter()
                .map(|r| format!("{r:?}"))
                .collect::<Vec<_>>()
                .join(" or ")
        )))
    }

    /// `who` is a user of the placement's provider; 403 otherwise.
    pub fn provider_acts(&self, who: &Principal, what: &str) -> Result<(), Problem> {
        if who.is_provider() && who.org == self.provider_id {
            return Ok(());
        }
        Err(Problem::forbidden(format!(
            "only the placement's provider {what}"
        )))
    }
}

/// Its council's staff and its provider (as the order it is made under).
impl Visible for Placement {
    const WHAT: &'static str = "placement";

    fn visible_to(&self, who: &Principal) -> bool {
        may_see(who, &self.council, &self.provider_id)
    }
}

/// What the contract service knows of a referral (its replica of the referral facts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferralFacts<'a> {
    pub council: &'a str,
    pub partnership: &'a str,
    pub withdrawn: bool,
    /// Closed by its council once placed (the placement over).
    pub closed: bool,
    /// A competition for it is open (opened, and neither closed nor awarded since).
    pub in_competition: bool,
    /// It is in a placement that goes on.
    pub placed: bool,
}

/// Why a referral cannot be placed in a block bed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReferralRefusal {
    /// Unknown, or another council's: 404.
    NotFound,
    /// Known and the council's, but not placeable there: 422 naming `/referral_id`.
    Invalid(FieldError),
}

/// Whether `council` may place the child of the referral `facts` describes (None: unknown to
/// the service) in a bed of a block contract let for `partnership`.
pub fn block_bed_referral(
    facts: Option<&ReferralFacts<'_>>,
    council: &str,
    partnership: &str,
) -> Result<(), ReferralRefusal> {
    let Some(f) = facts.filter(|f| f.council == council) else {
        return Err(ReferralRefusal::NotFound);
    };
    let invalid = |rule: &str, message: String| {
        Err(ReferralRefusal::Invalid(FieldError::new(
            "/referral_id",
            rule,
            message,
        )))
    };
    if f.partnership != partnership {
        return invalid(
            "partnership",
            format!(
                "the referral is in {}; the block contract's beds are for {partnership}",
                f.partnership
            ),
        );
    }
    let not_placeable = if f.withdrawn {
        Some("the referral has been withdrawn")
    } else if f.closed {
        Some("the referral is closed")
    } else if f.in_competition {
        Some("a competition is open for the referral; close it before placing the child")
    } else if f.placed {
        Some("the child is already in a placement under this referral; end it first")
    } else {
        None
    };
    match not_placeable {
        Some(why) => invalid("placeable", why.to_owned()),
        None => Ok(()),
    }
}

hub_platform::code_enum! {
pub enum PlacementStatus {
    Active,
    Ended,
}
}

impl PlacementStatus {
    /// Not yet ended.
    pub fn is_active(self) -> bool {
        self == Self::Active
    }

    /// The placement goes on (what changes it needs this); 409 `/problems/placement-ended`
    /// once it has ended.
    pub fn active(self) -> Result<(), Problem> {
        match self {
            Self::Active => Ok(()),
            Self::Ended => Err(placement_ended()),
        }
    }

    /// Active → ended, once.
    pub fn end(self) -> Result<Self, Problem> {
        self.active().map(|()| Self::Ended)
    }
}

/// 409 `/problems/placement-ended`.
pub fn placement_ended() -> Problem {
    Problem::conflict("placement-ended", "the placement has ended")
}

/// `POST /v1/placements`: either under an order (`order_id`; the referral, provider and rate
/// come from it), or in a bed of a block contract (`block_contract_id`, `bed`,
/// `referral_id`, `start_date`; the rate is the block rate).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPlacement {
    /// A signed order, or an emergency (direct-award) order not yet signed.
    #[serde(default)]
    pub order_id: Option<Uuid>,
    #[serde(default)]
    pub block_contract_id: Option<Uuid>,
    /// The bed of the block contract (1 …).
    #[serde(default)]
    pub bed: Option<u16>,
    /// The child's referral (a block bed only; an order names its own).
    #[serde(default)]
    pub referral_id: Option<Uuid>,
    /// The day the child moves in; under an order, the order's start date when left out.
    #[serde(default)]
    pub start_date: Option<NaiveDate>,
    /// The provider's home, or its carers, the child lives with.
    #[serde(default)]
    pub home_id: Option<Uuid>,
    /// Where the home is (WGS84). A home's position is not the child's personal data; it is
    /// what "placed locally" is judged by in the stability figures.
    #[serde(default)]
    pub home_latitude: Option<f64>,
    #[serde(default)]
    pub home_longitude: Option<f64>,
}

impl Validate for NewPlacement {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        match (self.order_id, self.block_contract_id) {
            (Some(_), Some(_)) | (None, None) => e.push(FieldError::new(
                "/order_id",
                "one_of",
                "name either an order or a block contract's bed",
            )),
            (Some(_), None) => {
                if self.bed.is_some() {
                    e.push(FieldError::new(
                        "/bed",
                        "not_allowed",
                        "only for a block bed",
                    ));
                }
                if self.referral_id.is_some() {
                    e.push(FieldError::new(
                        "/referral_id",
                        "not_allowed",
                        "the order names the referral",
                    ));
                }
            }
            (None, Some(_)) => {
                for (field, missing) in [
                    ("/bed", self.bed.is_none()),
                    ("/referral_id", self.referral_id.is_none()),
                    ("/start_date", self.start_date.is_none()),
                ] {
                    if missing {
                        e.push(FieldError::new(field, "required", "needed for a block bed"));
                    }
                }
            }
        }
        e.extend(position_errors(self.home_latitude, self.home_longitude));
        e
    }
}

/// A home's position: both coordinates or neither, each in range.
fn position_errors(lat: Option<f64>, lon: Option<f64>) -> Vec<FieldError> {
    match (lat, lon) {
        (None, None) => Vec::new(),
        (Some(_), None) => vec![FieldError::new(
            "/home_longitude",
            "required",
            "give both coordinates",
        )],
        (None, Some(_)) => vec![FieldError::new(
            "/home_latitude",
            "required",
            "give both coordinates",
        )],
        (Some(lat), Some(lon)) => {
            let mut e = Vec::new();
            if !(-90.0..=90.0).contains(&lat) {
                e.push(FieldError::new("/home_latitude", "range", "-90 to 90"));
            }
            if !(-180.0..=180.0).contains(&lon) {
                e.push(FieldError::new("/home_longitude", "range", "-180 to 180"));
            }
            e
        }
    }
}

hub_platform::code_enum! {
/// Why a placement ended (the code goes into `contract.placement_ended`).
pub enum EndReason {
    PlannedMove,
    StepDown,
    /// Ended unplanned: counted in the stability figures.
    Breakdown,
    ReturnHome,
    Adoption,
    #[serde(rename = "turned_18")]
    #[strum(serialize = "turned_18")]
    Turned18,
    Other,
}
}

/// `POST /v1/placements/{id}/end`. The order and any block contract stay in force.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndPlacement {
    /// The child's last night in the placement (costs stop after it).
    pub end_date: NaiveDate,
    pub reason: EndReason,
    /// Free text (required for `other`); kept in this service only.
    #[serde(default)]
    pub note: Option<String>,
}

impl Validate for EndPlacement {
    fn validate(&self) -> Vec<FieldError> {
        let note = self.note.as_deref().unwrap_or("");
        text_errors("/note", note, self.reason == EndReason::Other, 4000)
    }
}

impl EndPlacement {
    /// The last night is on or after the first day.
    pub fn end_date_error(&self, start_date: NaiveDate) -> Option<FieldError> {
        (self.end_date < start_date).then(|| {
            FieldError::new(
                "/end_date",
                "min",
                format!("the placement started on {start_date}"),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_bed_takes_a_real_placeable_referral_of_the_placing_council() {
        let sefton = ReferralFacts {
            council: "E08000014",
            partnership: "AIM",
            withdrawn: false,
            closed: false,
            in_competition: false,
            placed: false,
        };
        let rule = |facts: Option<&ReferralFacts<'_>>, council: &str| match block_bed_referral(
            facts, council, "AIM",
        ) {
            Ok(()) => "ok".to_owned(),
            Err(ReferralRefusal::NotFound) => "not-found".to_owned(),
            Err(ReferralRefusal::Invalid(e)) => {
                assert_eq!(e.field, "/referral_id");
                e.rule
            }
        };
        assert_eq!(rule(Some(&sefton), "E08000014"), "ok");
        // A made-up id, and another council's referral: not visible.
        assert_eq!(rule(None, "E08000014"), "not-found");
        assert_eq!(rule(Some(&sefton), "E08000015"), "not-found");
        let lcr = ReferralFacts {
            partnership: "LCR-PPA",
            ..sefton.clone()
        };
        assert_eq!(rule(Some(&lcr), "E08000014"), "partnership");
        for not_placeable in [
            ReferralFacts {
                withdrawn: true,
                ..sefton.clone()
            },
            ReferralFacts {
                closed: true,
                ..sefton.clone()
            },
            ReferralFacts {
                in_competition: true,
                ..sefton.clone()
            },
            ReferralFacts {
                placed: true,
                ..sefton.clone()
            },
        ] {
            assert_eq!(rule(Some(&not_placeable), "E08000014"), "placeable");
        }
    }

    fn rules(v: serde_json::Value) -> Vec<(String, String)> {
        let p: NewPlacement = serde_json::from_value(v).unwrap();
        p.validate()
            .into_iter()
            .map(|e| (e.field, e.rule))
            .collect()
    }

    #[test]
    fn a_placement_is_under_an_order_or_in_a_block_bed() {
        let id = Uuid::now_v7();
        assert!(rules(serde_json::json!({"order_id": id})).is_empty());
        assert_eq!(
            rules(serde_json::json!({})),
            [("/order_id".into(), "one_of".into())]
        );
        assert_eq!(
            rules(serde_json::json!({"order_id": id, "block_contract_id": id})),
            [("/order_id".into(), "one_of".into())]
        );
        assert_eq!(
            rules(serde_json::json!({"block_contract_id": id, "bed": 2})),
            [
                ("/referral_id".into(), "required".into()),
                ("/start_date".into(), "required".into())
            ]
        );
        assert_eq!(
            rules(serde_json::json!({"order_id": id, "bed": 1, "home_latitude": 52.9})),
            [
                ("/bed".into(), "not_allowed".into()),
                ("/home_longitude".into(), "required".into())
            ]
        );
        assert_eq!(
            rules(
                serde_json::json!({"order_id": id, "home_latitude": 95.0, "home_longitude": -1.0})
            ),
            [("/home_latitude".into(), "range".into())]
        );
    }

    #[test]
    fn reasons_are_the_catalogue_codes() {
        for (code, reason) in [
            ("turned_18", EndReason::Turned18),
            ("planned_move", EndReason::PlannedMove),
            ("breakdown", EndReason::Breakdown),
        ] {
            let parsed: EndReason = serde_json::from_value(serde_json::json!(code)).unwrap();
            assert_eq!((parsed, reason.to_string()), (reason, code.to_owned()));
        }
        let end = EndPlacement {
            end_date: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            reason: EndReason::Other,
            note: None,
        };
        assert_eq!(end.validate()[0].field, "/note");
        assert!(
            end.end_date_error(NaiveDate::from_ymd_opt(2026, 1, 2).unwrap())
                .is_some()
        );
    }
}
