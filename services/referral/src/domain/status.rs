//! Where a referral is in its life, and what may happen to it there: the state machine, as
//! methods of [`ReferralStatus`] that return the next status or the 409 that refuses the step. No I/O.

use hub_platform::{Problem, db::DbError};

use crate::ids::CompetitionId;

hub_platform::code_enum! {
    /// Where a referral is in its life.
    ///
    /// ```text
    /// draft ─submit→ submitted ─competition.opened→ in_competition ─competition.awarded→ awarded
    ///                    ↑  └──────────── competition.awarded (direct award) ────────────↗   │
    ///                    └── competition.closed ──┘                                          │
    ///                                                awarded ─contract.placement_started→ placed ─close→ closed
    /// submitted | in_competition ─contract.placement_started (block bed, other system, spot)→ placed
    /// draft | submitted | in_competition | awarded ─withdraw→ withdrawn
    /// ```
    pub enum ReferralStatus {
        Draft,
        Submitted,
        InCompetition,
        Awarded,
        Placed,
        Closed,
        Withdrawn,
        /// Put back to the council by the competition service, which could not route it
        /// (`competition.referral_returned`); `status_reason` holds the reason code.
        Returned,
    }
}

impl ReferralStatus {
    /// Every status, in the order of a referral's life (as the list filter names them).
    pub const ALL: [ReferralStatus; 8] = [
        Self::Draft,
        Self::Submitted,
        Self::Returned,
        Self::InCompetition,
        Self::Awarded,
        Self::Placed,
        Self::Closed,
        Self::Withdrawn,
    ];
}

/// A refused action: a 409 `/problems/<slug>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub slug: &'static str,
    pub detail: String,
}

impl Conflict {
    fn new(slug: &'static str, detail: impl Into<String>) -> Self {
        Self {
            slug,
            detail: detail.into(),
        }
    }

    fn placed(status: ReferralStatus) -> Self {
        Self::new(
            "referral-placed",
            format!(
                "the referral is {status}: the child has been placed, so it can no longer be withdrawn \
                 (close it once the placement ends)"
            ),
        )
    }

    fn withdrawn() -> Self {
        Self::new("referral-withdrawn", "the referral has been withdrawn")
    }

    fn closed() -> Self {
        Self::new("referral-closed", "the referral is closed")
    }
}

impl From<Conflict> for Problem {
    fn from(c: Conflict) -> Self {
        Problem::conflict(c.slug, c.detail)
    }
}

impl From<Conflict> for DbError {
    fn from(c: Conflict) -> Self {
        Problem::from(c).into()
    }
}

/// How a change is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// A draft: the one version is rewritten.
    InPlace,
    /// After submission: a new version.
    NewVersion,
}

impl ReferralStatus {
    /// Whether the council may submit the referral: a draft only (a submitted one is
    /// re-routed, `POST …/route`).
    pub fn submit(self) -> Result<ReferralStatus, Conflict> {
        match self {
            Self::Draft => Ok(Self::Submitted),
            _ => Err(Conflict::new(
                "referral-not-draft",
                format!("the referral is {self}"),
            )),
        }
    }

    /// Whether the council may withdraw the referral: at any point before placement.
    pub fn withdraw(self) -> Result<ReferralStatus, Conflict> {
        match self {
            Self::Draft
            | Self::Submitted
            | Self::Returned
            | Self::InCompetition
            | Self::Awarded => Ok(Self::Withdrawn),
            Self::Placed | Self::Closed => Err(Conflict::placed(self)),
            Self::Withdrawn => Err(Conflict::withdrawn()),
        }
    }

    /// Whether the document may be changed (`PUT`), and how the change is kept.
    pub fn edit(self) -> Result<Change, Conflict> {
        match self {
            Self::Draft => Ok(Change::InPlace),
            Self::Submitted
            | Self::Returned
            | Self::InCompetition
            | Self::Awarded
            | Self::Placed => Ok(Change::NewVersion),
            Self::Withdrawn => Err(Conflict::withdrawn()),
            Self::Closed => Err(Conflict::closed()),
        }
    }

    /// Whether the route may be changed. A submitted referral (never routed yet, or back from
    /// a closed competition) or a returned one gets a new version and is submitted again for
    /// the new route (a returned one is `submitted` again: [`ReferralStatus::rerouted`]).
    pub fn reroute(self) -> Result<Change, Conflict> {
        match self {
            Self::Draft => Ok(Change::InPlace),
            Self::Submitted | Self::Returned => Ok(Change::NewVersion),
            Self::InCompetition => Err(Conflict::new(
                "referral-in-competition",
                "a competition is open for this referral; it must be closed before the referral \
                 is re-routed",
            )),
            Self::Awarded | Self::Placed => Err(Conflict::new(
                "referral-awarded",
                format!(
                    "the referral is {}; a direct award is reviewed (and reopened to competition) \
                     in the competition service",
                    self
                ),
            )),
            Self::Withdrawn => Err(Conflict::withdrawn()),
            Self::Closed => Err(Conflict::closed()),
        }
    }

    /// The status after a re-route: a returned referral is submitted again.
    pub fn rerouted(self) -> ReferralStatus {
        match self {
            Self::Returned => Self::Submitted,
            s => s,
        }
    }

    /// Whether the referral may be closed: once the child is placed (before that, withdraw).
    pub fn close(self) -> Result<ReferralStatus, Conflict> {
        match self {
            Self::Placed => Ok(Self::Closed),
            Self::Closed => Err(Conflict::closed()),
            Self::Withdrawn => Err(Conflict::withdrawn()),
            _ => Err(Conflict::new(
                "referral-not-placed",
                format!(
                    "the referral is {}; only a placed referral is closed (withdraw it instead)",
                    self
                ),
            )),
        }
    }
}

/// Something the competition or contract service reports about a referral.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Happening {
    /// A mini-competition opened (`competition.opened`).
    CompetitionOpened { competition_id: CompetitionId },
    /// A competition closed without an award (`competition.closed`).
    CompetitionClosed { competition_id: CompetitionId },
    /// A competition was awarded, or a direct award made (`competition.awarded`).
    Awarded { competition_id: CompetitionId },
    /// The placement started (`contract.placement_started`).
    PlacementStarted,
    /// The competition service could not route the submitted referral
    /// (`competition.referral_returned`).
    Returned,
}

/// The status after `happening`, given the current status and the competition the referral is
/// in (`current_competition`), or `None` when the event does not apply: the referral was
/// withdrawn or closed meanwhile, or a competition other than the one it is in closed.
/// `Some` of the same status means the event's facts (the competition, the winner) are kept
/// but the status stays.
///
/// Events that arrive late (older than the last one applied, after a retry) are the
/// caller's to drop; this is about what a current event does. A competition may open again
/// under the same id (reopened after closing without an award, or a direct award reviewed
/// and opened to competition).
///
/// After placement the child stays placed while a reviewed direct award is opened to
/// competition and awarded: the status stays `placed` and the new winner reads the referral.
pub fn after(
    status: ReferralStatus,
    current_competition: Option<CompetitionId>,
    happening: Happening,
) -> Option<ReferralStatus> {
    use ReferralStatus::*;
    match happening {
        Happening::CompetitionOpened { .. } => match status {
            Submitted | InCompetition | Awarded => Some(InCompetition),
            Placed => Some(Placed),
            _ => None,
        },
        Happening::CompetitionClosed { competition_id } => match status {
            InCompetition if current_competition.is_none_or(|c| c == competition_id) => {
                Some(Submitted)
            }
            _ => None,
        },
        Happening::Awarded { .. } => match status {
            Submitted | InCompetition | Awarded => Some(Awarded),
            Placed => Some(Placed),
            _ => None,
        },
        // Every placement places its referral, whatever the route: after an award, and
        // equally a child placed in a block bed (or through another purchasing system, or a
        // spot purchase) straight from `submitted`, or while a competition was still open
        // for it (a late award or close of that competition then changes nothing).
        Happening::PlacementStarted => match status {
            Submitted | InCompetition | Awarded | Returned | Placed => Some(Placed),
            Draft | Closed | Withdrawn => None,
        },
        Happening::Returned => match status {
            Submitted | Returned => Some(Returned),
            _ => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_their_codes() {
        for s in ReferralStatus::ALL {
            assert_eq!(s.to_string().parse::<ReferralStatus>().ok(), Some(s));
            assert_eq!(
                serde_json::to_value(s).unwrap(),
                serde_json::json!(s.to_string())
            );
        }
        assert_eq!("open".parse::<ReferralStatus>().ok(), None);
    }

    #[test]
    fn withdrawal_is_refused_once_placed() {
        use ReferralStatus::*;
        for s in [Draft, Submitted, InCompetition, Awarded] {
            assert_eq!(s.withdraw(), Ok(Withdrawn), "{s:?}");
        }
        for s in [Placed, Closed] {
            assert_eq!(s.withdraw().unwrap_err().slug, "referral-placed", "{s:?}");
        }
        assert_eq!(Withdrawn.withdraw().unwrap_err().slug, "referral-withdrawn");
    }

    #[test]
    fn drafts_change_in_place_and_submitted_referrals_get_versions() {
        use ReferralStatus::*;
        assert_eq!(Draft.edit(), Ok(Change::InPlace));
        for s in [Submitted, InCompetition, Awarded, Placed] {
            assert_eq!(s.edit(), Ok(Change::NewVersion), "{s:?}");
        }
        assert_eq!(Withdrawn.edit().unwrap_err().slug, "referral-withdrawn");
        assert_eq!(Closed.edit().unwrap_err().slug, "referral-closed");

        assert_eq!(Draft.reroute(), Ok(Change::InPlace));
        assert_eq!(Submitted.reroute(), Ok(Change::NewVersion));
        assert_eq!(
            InCompetition.reroute().unwrap_err().slug,
            "referral-in-competition"
        );
        assert_eq!(Awarded.reroute().unwrap_err().slug, "referral-awarded");
        assert_eq!(Placed.reroute().unwrap_err().slug, "referral-awarded");

        assert_eq!(Placed.close(), Ok(Closed));
        assert_eq!(Awarded.close().unwrap_err().slug, "referral-not-placed");
        assert_eq!(Closed.close().unwrap_err().slug, "referral-closed");
    }

    #[test]
    fn events_move_the_referral_through_its_life() {
        use Happening::{CompetitionClosed, CompetitionOpened, PlacementStarted};
        use ReferralStatus::*;
        let [c, c1, c2, d1] = std::array::from_fn(|_| CompetitionId::new());
        let opened = |c| CompetitionOpened { competition_id: c };
        let closed = |c| CompetitionClosed { competition_id: c };
        let awarded = |c| Happening::Awarded { competition_id: c };
        assert_eq!(after(Submitted, None, opened(c1)), Some(InCompetition));
        assert_eq!(
            after(InCompetition, Some(c1), closed(c1)),
            Some(Submitted),
            "back to submitted, to be re-routed"
        );
        assert_eq!(
            after(InCompetition, Some(c2), closed(c1)),
            None,
            "a late close of an earlier competition changes nothing"
        );
        assert_eq!(after(InCompetition, Some(c1), awarded(c1)), Some(Awarded));
        assert_eq!(
            after(Submitted, None, awarded(d1)),
            Some(Awarded),
            "a direct award"
        );
        assert_eq!(
            after(Awarded, Some(d1), opened(d1)),
            Some(InCompetition),
            "a reviewed direct award reopened to competition"
        );
        assert_eq!(
            after(Submitted, Some(c1), opened(c1)),
            Some(InCompetition),
            "a closed competition reopened"
        );
        assert_eq!(after(Awarded, Some(c1), PlacementStarted), Some(Placed));
        assert_eq!(
            after(Placed, Some(d1), opened(d1)),
            Some(Placed),
            "the child stays placed while a direct award is reviewed"
        );
        assert_eq!(after(Placed, Some(d1), awarded(d1)), Some(Placed));
        for s in [Withdrawn, Closed] {
            for h in [opened(c), closed(c), awarded(c), PlacementStarted] {
                assert_eq!(after(s, Some(c), h), None, "{s:?} {h:?}");
            }
        }
        assert_eq!(after(Draft, None, opened(c)), None);
        // Every placement places its referral: a block bed, another purchasing system or a
        // spot purchase places a submitted referral, with no award before it.
        assert_eq!(after(Submitted, None, PlacementStarted), Some(Placed));
        assert_eq!(
            after(InCompetition, Some(c), PlacementStarted),
            Some(Placed)
        );
        assert_eq!(after(Placed, Some(c), closed(c)), None);
        assert_eq!(after(Draft, None, PlacementStarted), None);
    }

    #[test]
    fn a_returned_referral_is_rerouted_or_withdrawn() {
        use ReferralStatus::*;
        assert_eq!(after(Submitted, None, Happening::Returned), Some(Returned));
        for s in [Draft, InCompetition, Awarded, Placed, Withdrawn, Closed] {
            assert_eq!(after(s, None, Happening::Returned), None, "{s:?}");
        }
        assert_eq!(Returned.reroute(), Ok(Change::NewVersion));
        assert_eq!(Returned.rerouted(), Submitted);
        assert_eq!(Submitted.rerouted(), Submitted);
        assert_eq!(Returned.withdraw(), Ok(Withdrawn));
        assert_eq!(Returned.edit(), Ok(Change::NewVersion));
    }
}
