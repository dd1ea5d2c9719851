//! Competitions as this service learns them from the competition service's events, and who
//! hears of a referral's new versions: the invited providers of an open competition, the
//! winner of an awarded one, nobody after a close; only for a version later than the one
//! the competition opened on.

use uuid::Uuid;

/// What the competition service last said of a competition (the latest event by
/// `occurred_at` wins, so a reopened competition is open again).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    strum::Display,
    strum::EnumString,
    diesel::AsExpression,
    diesel::FromSqlRow,
)]
#[strum(serialize_all = "snake_case")]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum CompetitionState {
    Open,
    Awarded,
    Closed,
}
hub_platform::sql_text!(CompetitionState);

/// Who in a competition hears of its referral's new versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferralAudience {
    /// Every provider invited to it.
    Invited,
    /// The provider awarded it.
    Winner,
    Nobody,
}

impl CompetitionState {
    pub fn referral_audience(self) -> ReferralAudience {
        match self {
            Self::Open => ReferralAudience::Invited,
            Self::Awarded => ReferralAudience::Winner,
            Self::Closed => ReferralAudience::Nobody,
        }
    }
}

/// A competition as the notifications service knows it from `competition.opened`.
#[derive(Debug, Clone, PartialEq)]
pub struct CompetitionInfo {
    pub competition_id: Uuid,
    pub lot_id: Option<Uuid>,
    pub lot_name: Option<String>,
    /// The referral version the competition opened on (unknown for a direct award).
    pub referral_version: Option<u32>,
}

impl CompetitionInfo {
    /// Whether a provider in this competition has yet to hear of `version`: it is later than
    /// the one the competition opened on.
    pub fn is_news(&self, version: u32) -> bool {
        self.referral_version.is_none_or(|v| version > v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_are_stored_by_their_snake_case_codes() {
        for (state, code) in [
            (CompetitionState::Open, "open"),
            (CompetitionState::Awarded, "awarded"),
            (CompetitionState::Closed, "closed"),
        ] {
            assert_eq!(state.to_string(), code);
            assert_eq!(code.parse::<CompetitionState>(), Ok(state));
        }
        assert!("reopened".parse::<CompetitionState>().is_err());
    }
}
