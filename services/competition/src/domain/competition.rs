//! A competition as the service keeps it (mini-competition or direct award), with its bids,
//! the commissioner's marks on them, the invited providers' declines, a direct award's terms
//! and the history of who did what; and the rules a competition holds itself to (when bids
//! may still come in, when a decision may be made, what a review needs). No I/O.

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime};
use hub_events::{CompetitionCloseReason, ReferralSubmitted, Urgency};
use hub_platform::{Pence, Problem};

use super::{
    Route,
    calloff::{
        CloseBiddingReason, DeclineReason, LogAction, Status, bidding_over, still_waiting_for,
    },
    criteria::{Criterion, CriterionName},
    evaluation::Mark,
    preselection::{LeftOut, Preselection},
};
use crate::ids::{BidId, CompetitionId, FrameworkId, HomeId, LogEntryId, LotId, ReferralId};

/// A competition: who asked (a referral of a council), on which lot, where it stands, its
/// terms and, once made, its award.
#[derive(Debug, Clone)]
pub struct Competition {
    pub id: CompetitionId,
    pub referral_id: ReferralId,
    pub referral_version: i32,
    pub council: String,
    pub partnership: String,
    pub framework_id: FrameworkId,
    pub lot_id: LotId,
    pub status: Status,
    pub urgency: Urgency,
    pub deadline: NaiveDateTime,
    pub awarded_provider: Option<String>,
    pub awarded_bid: Option<BidId>,
    pub awarded_by: Option<String>,
    pub created_at: NaiveDateTime,
    pub route: Route,
    /// The need level whose Provider Response rates bids are held to.
    pub need_level: String,
    pub criteria: Vec<Criterion>,
    /// The referral.submitted payload it was opened from (codes and bands only).
    pub requirement: Option<ReferralSubmitted>,
    pub preselection: Option<Preselection>,
    /// Who was left out when it opened, and why (`None` until a preselection opens it).
    pub left_out: Option<Vec<LeftOut>>,
    pub opened_at: Option<NaiveDateTime>,
    pub opened_by: Option<String>,
    pub closed_reason: Option<CompetitionCloseReason>,
    /// Awarded directly (an emergency), not by mini-competition.
    pub direct: bool,
    pub awarded_rate_pence: Option<Pence>,
    pub awarded_start_date: Option<NaiveDate>,
    pub awarded_at: Option<NaiveDateTime>,
    /// A direct award's next review.
    pub review_date: Option<NaiveDate>,
    /// The competition (or direct award) this one reopened.
    pub reopened_from: Option<CompetitionId>,
    /// When the commissioner closed bidding before the deadline, if they did…
    pub bidding_closed_at: Option<NaiveDateTime>,
    /// …and the reason code the invited providers were told.
    pub bidding_closed_reason: Option<CloseBiddingReason>,
    /// Raised by the store at every change of the competition (its ETag): an edit of its
    /// criteria or preselection names the revision it read (`If-Match`).
    pub revision: i64,
}

impl Competition {
    /// The child's maximum distance: the preselection's if set, else the referral's.
    pub fn max_distance_miles(&self) -> f64 {
        if let Some(p) = &self.preselection {
            return p.max_distance_miles;
        }
        self.requirement
            .as_ref()
            .map_or(0.0, |r| r.max_distance_miles)
    }

    /// 409 unless invited providers may still answer at `now`: it is open, before its
    /// deadline (`deadline-passed`) and bidding was not closed early (`bidding-closed`).
    pub fn require_bidding_open(&self, now: NaiveDateTime, doing: &str) -> Result<(), Problem> {
        self.status.require(&[Status::Open], doing)?;
        if let Some(at) = self.bidding_closed_at {
            return Err(Problem::conflict(
                "bidding-closed",
                format!(
                    "the commissioner closed bidding early at {at} UTC ({})",
                    self.bidding_closed_reason
                        .map_or_else(|| "no reason code".to_owned(), |r| r.to_string())
                ),
            ));
        }
        if bidding_over(now, self.deadline, None) {
            return Err(Problem::conflict(
                "deadline-passed",
                format!("bids closed at {} UTC", self.deadline),
            ));
        }
        Ok(())
    }

    /// 409 `/problems/bidding-open` while the competition is open to bids that have not all
    /// come in at `now`: before its deadline, bidding not closed early, and some of
    /// `invited` has neither bid nor declined (`answered`; they were promised the whole
    /// window). Names who is still awaited.
    pub fn require_answers_or_deadline(
        &self,
        now: NaiveDateTime,
        invited: &[String],
        answered: &[&str],
        doing: &str,
    ) -> Result<(), Problem> {
        let waiting = still_waiting_for(
            now,
            self.deadline,
            self.bidding_closed_at,
            invited,
            answered,
        );
        if waiting.is_empty() {
            return Ok(());
        }
        Err(Problem::conflict(
            "bidding-open",
            format!(
                "bids are open until {} UTC and {} of the invited providers ({}) have neither bid nor declined: {doing} waits for the deadline, for them to answer, or for bidding to be closed early with a reason (POST /v1/competitions/{}/close-bidding)",
                self.deadline,
                waiting.len(),
                waiting.join(", "),
                self.id
            ),
        ))
    }

    /// 409 `/problems/referral-withdrawn` for a competition closed because its referral was
    /// withdrawn: there is nothing left to `do_what`.
    pub fn require_not_withdrawn(&self, do_what: &str) -> Result<(), Problem> {
        if self.closed_reason == Some(CompetitionCloseReason::ReferralWithdrawn) {
            return Err(Problem::conflict(
                "referral-withdrawn",
                format!("the referral was withdrawn: there is nothing to {do_what}"),
            ));
        }
        Ok(())
    }

    /// 409 unless this is a direct award with its review still to do.
    pub fn require_review_pending(&self) -> Result<(), Problem> {
        if !(self.direct && self.status == Status::Awarded) {
            return Err(Problem::conflict(
                "not-a-direct-award",
                "only a direct award is reviewed",
            ));
        }
        if self.review_date.is_none() {
            return Err(Problem::conflict(
                "review-done",
                "the award has no review pending",
            ));
        }
        Ok(())
    }
}

/// A provider's bid: its price and start, the home offered and its answers per criterion.
#[derive(Debug, Clone)]
pub struct Bid {
    pub id: BidId,
    pub competition_id: CompetitionId,
    pub provider_id: String,
    pub weekly_price_pence: Pence,
    pub start_date: NaiveDate,
    pub home_id: Option<HomeId>,
    pub home_name: Option<String>,
    pub home_latitude: Option<f64>,
    pub home_longitude: Option<f64>,
    pub answers: BTreeMap<String, String>,
    /// The Provider Response rate at the competition's need level when the bid was made.
    pub provider_response_pence: Option<Pence>,
    pub price_variation_evidence: Option<String>,
    pub submitted_by: String,
    pub submitted_at: NaiveDateTime,
}

/// The commissioner's mark on one criterion of one bid.
#[derive(Debug, Clone)]
pub struct Score {
    pub bid_id: BidId,
    pub criterion: CriterionName,
    pub points: Option<i32>,
    pub passed: Option<bool>,
    pub reason: String,
    pub scored_by: String,
    pub scored_at: NaiveDateTime,
}

impl Score {
    /// The mark as evaluation counts it.
    pub fn mark(&self) -> Mark {
        Mark {
            points: self.points.map(|p| p.max(0) as u32),
            passed: self.passed,
            reason: self.reason.clone(),
        }
    }
}

/// An invited provider's decline (the council sees them all; a provider its own).
#[derive(Debug, Clone)]
pub struct InvitationDecline {
    pub competition_id: CompetitionId,
    pub provider_id: String,
    pub reason: DeclineReason,
    pub note: Option<String>,
    pub declined_by: String,
    pub declined_at: NaiveDateTime,
}

/// The terms of a direct award: who, at what rate, from when, why, and its review.
#[derive(Debug, Clone)]
pub struct DirectAwardTerms {
    pub competition_id: CompetitionId,
    pub provider_id: String,
    pub weekly_rate_pence: Pence,
    pub start_date: NaiveDate,
    pub justification: String,
    pub review_date: NaiveDate,
    pub awarded_by: String,
    pub awarded_at: NaiveDateTime,
}

/// An entry of a competition's history: what happened, why, and who did it.
#[derive(Debug, Clone)]
pub struct LogEntry {
    pub id: LogEntryId,
    pub competition_id: CompetitionId,
    pub action: LogAction,
    pub reason: Option<String>,
    /// What changed (kept for the record; not shown).
    pub detail: serde_json::Value,
    pub actor: String,
    pub org: String,
    pub at: NaiveDateTime,
}
