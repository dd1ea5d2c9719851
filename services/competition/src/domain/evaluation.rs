//! Evaluation of a mini-competition's bids: pass/fail gates first, then weighted totals; the
//! best value wins. Pure: the caller loads the bids and the commissioner's marks once (no
//! query per bid) and this ranks them.
//!
//! Scores are kept in hundredths of a point: a criterion weighted 60 scores 0..=6000, a
//! total is out of 10,000.
//!
//! * **Price** (automatic): pro rata to the lowest weekly price among the acceptable bids
//!   (those that passed every gate). The lowest gets the full weight;
//!   `score = weight × lowest ÷ price`, rounded half up to the hundredth and never above the
//!   weight (a cheaper bid that failed a gate does not set the bar). The reason given names
//!   the bid's own price only, never the lowest (which may be another bidder's).
//! * **Location** (automatic): by the great-circle distance of the bid's home or carers from
//!   the child's area. Full weight at 0 miles, falling linearly to 0 at the competition's
//!   maximum distance: `score = weight × max(0, 1 − miles ÷ max_miles)`, rounded to the
//!   hundredth. A bid that names no home scores 0. With a maximum of 0 miles only a home
//!   at 0 miles scores.
//! * **Best match, compatibility, quality, service offer**: the commissioner's points,
//!   a whole number 0..=weight with a short reason. Not yet scored counts as 0 and is listed
//!   under `pending`.
//! * **Gates**: a location gate passes automatically within the maximum distance; a price
//!   gate passes automatically at or below the provider's Provider Response rate (above it,
//!   the commissioner decides on the evidence given for the variation). Other gates are
//!   marked pass or fail by the commissioner. A commissioner's mark overrides the automatic
//!   result. A bid with an undecided gate is not ranked.
//!
//! **No award with criteria undecided** ([`Evaluation::undecided`]): every gate of every bid
//! decided, and every scored criterion of every acceptable bid marked. A bid that failed a
//! gate need not be scored further.
//!
//! **What an unsuccessful provider learns** ([`outcomes`]): its own price and scores, the
//! winner's name and per-criterion scores, and the winning bid's relative advantages; never
//! another unsuccessful bid's price or identity, nor the winner's price (commercial, and not
//! needed to see why it lost). Price scoring is pro rata to the lowest acceptable price, so a
//! provider can work out that lowest price from its own price score: that is the council's
//! published formula, and it names no one.
//!
//! Tie-break between equal totals (documented in [`TIE_BREAK`]): the higher quality score,
//! then the lower weekly price, then the earlier bid, then the bid id.

use std::{cmp::Reverse, collections::HashMap};

use chrono::NaiveDateTime;
use hub_events::{BidOutcome, CriterionScore};
use hub_platform::Pence;
use serde::Serialize;
use utoipa::ToSchema;

use super::criteria::{Criterion, CriterionName, Mode};

pub const TIE_BREAK: &str = "equal weighted totals are separated by the higher quality score, then the lower weekly price, then the earlier bid";

/// One live bid as evaluation needs it.
#[derive(Debug, Clone)]
pub struct BidInput {
    pub bid_id: String,
    pub provider_id: String,
    pub weekly_price_pence: i64,
    /// The provider's Provider Response rate at the competition's need level, if it has one.
    pub provider_response_pence: Option<i64>,
    /// Great-circle miles of the bid's home or carers from the child's area, if it names one.
    pub distance_miles: Option<f64>,
    pub submitted_at: NaiveDateTime,
}

/// The commissioner's mark on one criterion of one bid.
#[derive(Debug, Clone, PartialEq)]
pub struct Mark {
    /// Scored criteria: points 0..=weight.
    pub points: Option<u32>,
    /// Gates: pass or fail.
    pub passed: Option<bool>,
    pub reason: String,
}

/// Marks by (bid id, criterion).
pub type Marks = HashMap<(String, CriterionName), Mark>;

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct GateResult {
    pub criterion: CriterionName,
    /// `null` while undecided.
    pub passed: Option<bool>,
    /// Decided by the platform rather than marked by the commissioner.
    pub automatic: bool,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ScoreResult {
    pub criterion: CriterionName,
    pub weight: u32,
    /// Weighted score in hundredths of a point (0..=weight × 100).
    pub score: u32,
    pub automatic: bool,
    /// False while a commissioner-scored criterion has not been scored (it counts as 0).
    pub scored: bool,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct BidEvaluation {
    pub bid_id: String,
    pub provider_id: String,
    pub weekly_price_pence: i64,
    /// Passed every gate.
    pub acceptable: bool,
    /// Position among the acceptable bids (1 = best value); `null` for the others.
    pub rank: Option<u32>,
    /// Weighted total in hundredths of a point (out of 10,000).
    pub total: u32,
    pub gates: Vec<GateResult>,
    pub scores: Vec<ScoreResult>,
    /// Criteria not yet decided or scored by the commissioner.
    pub pending: Vec<CriterionName>,
    /// Why it did not win, in words (empty for the winner).
    pub reasons: Vec<String>,
}

impl BidEvaluation {
    fn score_of(&self, c: CriterionName) -> Option<u32> {
        self.scores
            .iter()
            .find(|s| s.criterion == c)
            .map(|s| s.score)
    }

    fn gates_pending(&self) -> bool {
        self.gates.iter().any(|g| g.passed.is_none())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Evaluation {
    /// Acceptable bids best first, then bids with undecided gates, then bids that failed one.
    pub ranking: Vec<BidEvaluation>,
    /// The best-value bid, if any bid is acceptable.
    pub winner: Option<String>,
    /// Every gate of every bid is decided (an award needs this).
    pub gates_decided: bool,
    /// Every criterion of every bid is decided or scored.
    pub complete: bool,
    pub tie_break: &'static str,
}

impl Evaluation {
    pub fn bid(&self, bid_id: &str) -> Option<&BidEvaluation> {
        self.ranking.iter().find(|b| b.bid_id == bid_id)
    }

    pub fn winning_bid(&self) -> Option<&BidEvaluation> {
        self.winner.as_deref().and_then(|w| self.bid(w))
    }

    /// What must still be decided before an award, by bid: a bid with an undecided gate
    /// lists those gates; an acceptable bid lists its criteria not yet scored (an award
    /// compares every acceptable bid on every criterion, so none may count 0 by default).
    /// A bid that failed a gate needs nothing more.
    pub fn undecided(&self) -> Vec<(&BidEvaluation, Vec<CriterionName>)> {
        self.ranking
            .iter()
            .filter_map(|b| {
                let gates: Vec<CriterionName> = b
                    .gates
                    .iter()
                    .filter(|g| g.passed.is_none())
                    .map(|g| g.criterion)
                    .collect();
                let todo = if !gates.is_empty() {
                    gates
                } else if b.acceptable {
                    b.pending.clone()
                } else {
                    Vec::new()
                };
                (!todo.is_empty()).then_some((b, todo))
            })
            .collect()
    }
}

/// A bid's gates and scores, before it is ranked: its total, and what is still to decide.
fn unranked(
    b: &BidInput,
    gates: Vec<GateResult>,
    acceptable: bool,
    scores: Vec<ScoreResult>,
) -> BidEvaluation {
    let total = scores.iter().map(|s| s.score).sum();
    let pending = gates
        .iter()
        .filter(|g| g.passed.is_none())
        .map(|g| g.criterion)
        .chain(scores.iter().filter(|s| !s.scored).map(|s| s.criterion))
        .collect();
    BidEvaluation {
        bid_id: b.bid_id.clone(),
        provider_id: b.provider_id.clone(),
        weekly_price_pence: b.weekly_price_pence,
        acceptable,
        rank: None,
        total,
        gates,
        scores,
        pending,
        reasons: Vec::new(),
    }
}

/// Where a bid ranks: acceptable bids by value (the tie-break: higher total, higher quality,
/// lower price, earlier bid), then undecided ones, then failed ones, each group in its
/// given order.
fn ranking_key(
    e: &BidEvaluation,
    b: &BidInput,
) -> (
    u8,
    Reverse<u32>,
    Reverse<u32>,
    i64,
    Option<NaiveDateTime>,
    String,
) {
    let group = if e.acceptable {
        0
    } else if e.gates_pending() && !e.gates.iter().any(|g| g.passed == Some(false)) {
        1
    } else {
        2
    };
    let (total, quality, price, at, id) = if group == 0 {
        (
            e.total,
            e.score_of(CriterionName::Quality).unwrap_or(0),
            b.weekly_price_pence,
            Some(b.submitted_at),
            b.bid_id.clone(),
        )
    } else {
        (0, 0, 0, None, String::new())
    };
    (group, Reverse(total), Reverse(quality), price, at, id)
}

/// Ranks `bids` on `criteria`. `max_distance_miles` is the child's maximum distance (the
/// location criterion's zero point).
pub fn evaluate(
    criteria: &[Criterion],
    max_distance_miles: f64,
    bids: &[BidInput],
    marks: &Marks,
) -> Evaluation {
    let mark = |bid: &BidInput, c: CriterionName| marks.get(&(bid.bid_id.clone(), c));
    // Gates first.
    let gated: Vec<(Vec<GateResult>, bool)> = bids
        .iter()
        .map(|b| {
            let gates: Vec<GateResult> = criteria
                .iter()
                .filter(|c| c.mode == Mode::PassFail)
                .map(|c| gate(c.criterion, b, mark(b, c.criterion), max_distance_miles))
                .collect();
            let acceptable = gates.iter().all(|g| g.passed == Some(true));
            (gates, acceptable)
        })
        .collect();
    let lowest = bids
        .iter()
        .zip(&gated)
        .filter(|(_, (_, ok))| *ok)
        .map(|(b, _)| b.weekly_price_pence)
        .min()
        .or_else(|| bids.iter().map(|b| b.weekly_price_pence).min())
        .unwrap_or(1)
        .max(1);
    let mut evaluated: Vec<(BidEvaluation, &BidInput)> = bids
        .iter()
        .zip(gated)
        .map(|(b, (gates, acceptable))| {
            let scores: Vec<ScoreResult> = criteria
                .iter()
                .filter(|c| c.mode == Mode::Scored)
                .map(|c| score(c, b, mark(b, c.criterion), lowest, max_distance_miles))
                .collect();
            (unranked(b, gates, acceptable, scores), b)
        })
        .collect();
    // Acceptable bids by value, then undecided, then failed; stable within each group.
    evaluated.sort_by_key(|(e, b)| ranking_key(e, b));
    let mut ranking: Vec<BidEvaluation> = evaluated.into_iter().map(|(e, _)| e).collect();
    let mut rank = 0;
    for e in ranking.iter_mut().filter(|e| e.acceptable) {
        rank += 1;
        e.rank = Some(rank);
    }
    let winner = ranking.first().filter(|e| e.acceptable).cloned();
    for e in ranking.iter_mut() {
        e.reasons = reasons(e, winner.as_ref());
    }
    let gates_decided = ranking.iter().all(|e| !e.gates_pending());
    let complete = ranking.iter().all(|e| e.pending.is_empty());
    Evaluation {
        winner: winner.map(|w| w.bid_id),
        ranking,
        gates_decided,
        complete,
        tie_break: TIE_BREAK,
    }
}

fn gate(c: CriterionName, b: &BidInput, mark: Option<&Mark>, max_miles: f64) -> GateResult {
    if let Some(m) = mark.filter(|m| m.passed.is_some()) {
        return GateResult {
            criterion: c,
            passed: m.passed,
            automatic: false,
            reason: Some(m.reason.clone()),
        };
    }
    let (passed, reason) = match c {
        CriterionName::Location => match b.distance_miles {
            Some(d) if d <= max_miles => (
                Some(true),
                format!("{d:.1} miles from the child's area, within {max_miles:.0}"),
            ),
            Some(d) => (
                Some(false),
                format!("{d:.1} miles from the child's area, beyond the {max_miles:.0} allowed"),
            ),
            None => (
                Some(false),
                "the bid names no home or carers, so its distance is unknown".to_owned(),
            ),
        },
        CriterionName::Price => match b.provider_response_pence {
            Some(rate) if b.weekly_price_pence <= rate => (
                Some(true),
                format!("within its Provider Response rate of {}", Pence(rate)),
            ),
            _ => (
                None,
                "above its Provider Response rate: the commissioner decides on the evidence for the variation".to_owned(),
            ),
        },
        _ => (None, "not yet decided by the commissioner".to_owned()),
    };
    GateResult {
        criterion: c,
        passed,
        automatic: passed.is_some(),
        reason: Some(reason),
    }
}

fn score(
    c: &Criterion,
    b: &BidInput,
    mark: Option<&Mark>,
    lowest: i64,
    max_miles: f64,
) -> ScoreResult {
    let full = c.weight * 100;
    let (score, automatic, scored, reason) = match c.criterion {
        CriterionName::Price => {
            let price = b.weekly_price_pence.max(1) as i128;
            let s = (full as i128 * lowest as i128 * 2 + price) / (2 * price);
            (
                (s as u32).min(full),
                true,
                true,
                // The bid's own price only: the lowest may be another bidder's, and this
                // reason is what an unsuccessful provider is told.
                Some(format!(
                    "weekly price {}; the lowest acceptable price scores full points",
                    Pence(b.weekly_price_pence)
                )),
            )
        }
        CriterionName::Location => match b.distance_miles {
            Some(d) => {
                let fraction = if max_miles > 0.0 {
                    (1.0 - d / max_miles).clamp(0.0, 1.0)
                } else if d <= 0.0 {
                    1.0
                } else {
                    0.0
                };
                (
                    (full as f64 * fraction).round() as u32,
                    true,
                    true,
                    Some(format!(
                        "{d:.1} miles from the child's area (0 points at {max_miles:.0})"
                    )),
                )
            }
            None => (
                0,
                true,
                true,
                Some("the bid names no home or carers".to_owned()),
            ),
        },
        _ => match mark.and_then(|m| m.points.map(|p| (p, m.reason.clone()))) {
            Some((points, reason)) => (points.min(c.weight) * 100, false, true, Some(reason)),
            None => (0, false, false, None),
        },
    };
    ScoreResult {
        criterion: c.criterion,
        weight: c.weight,
        score,
        automatic,
        scored,
        reason,
    }
}

fn reasons(e: &BidEvaluation, winner: Option<&BidEvaluation>) -> Vec<String> {
    let mut out = Vec::new();
    for g in &e.gates {
        match g.passed {
            Some(false) => out.push(format!(
                "did not pass the {} requirement: {}",
                g.criterion.label(),
                g.reason.as_deref().unwrap_or("marked as failed")
            )),
            None => out.push(format!(
                "the {} requirement is not yet decided",
                g.criterion.label()
            )),
            Some(true) => {}
        }
    }
    let Some(w) = winner else {
        if out.is_empty() {
            out.push("no bid passed every requirement".to_owned());
        }
        return out;
    };
    if w.bid_id == e.bid_id || !e.acceptable {
        return out;
    }
    if e.total < w.total {
        out.push(format!(
            "scored {} out of 100 against {} for the successful bid",
            points(e.total),
            points(w.total)
        ));
    } else {
        let by = if e.score_of(CriterionName::Quality) != w.score_of(CriterionName::Quality) {
            "a higher quality score"
        } else if e.weekly_price_pence != w.weekly_price_pence {
            "a lower weekly price"
        } else {
            "an earlier bid"
        };
        out.push(format!(
            "scored the same {} out of 100 as the successful bid; the tie was broken by {by}",
            points(e.total)
        ));
    }
    for s in &e.scores {
        let ws = w.score_of(s.criterion).unwrap_or(0);
        if s.score < ws {
            let mut line = format!(
                "{}: {} against {} (out of {})",
                s.criterion.label(),
                points(s.score),
                points(ws),
                s.weight
            );
            if let Some(r) = &s.reason {
                line.push_str(&format!("; {r}"));
            }
            out.push(line);
        }
    }
    out
}

/// The events' view of each unsuccessful bid, what its provider is told: its own price,
/// its scores beside the winner's per criterion, the winner's name (`winner_name`) and why
/// it lost (its own marks and the winning bid's advantages per criterion). Nothing of any
/// other unsuccessful bid: no price, no identity.
pub fn outcomes(evaluation: &Evaluation, winner_name: Option<&str>) -> Vec<BidOutcome> {
    let Some(w) = evaluation.winning_bid() else {
        return Vec::new();
    };
    evaluation
        .ranking
        .iter()
        .filter(|e| e.bid_id != w.bid_id)
        .map(|e| BidOutcome {
            provider_id: e.provider_id.clone(),
            total: e.acceptable.then_some(e.total),
            winner_total: Some(w.total),
            scores: e
                .gates
                .iter()
                .map(|g| CriterionScore {
                    criterion: g.criterion.to_string(),
                    weight: 0,
                    passed: g.passed,
                    score: None,
                    winner_score: None,
                })
                .chain(e.scores.iter().map(|s| CriterionScore {
                    criterion: s.criterion.to_string(),
                    weight: s.weight,
                    passed: None,
                    score: Some(s.score),
                    winner_score: w.score_of(s.criterion),
                }))
                .collect(),
            reasons: e.reasons.clone(),
            weekly_price_pence: Some(e.weekly_price_pence),
            winner_name: winner_name.map(str::to_owned),
        })
        .collect()
}

/// Hundredths of a point as `72.35`.
pub fn points(hundredths: u32) -> String {
    format!("{}.{:02}", hundredths / 100, hundredths % 100)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(minute: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 11, 2)
            .unwrap()
            .and_hms_opt(9, minute, 0)
            .unwrap()
    }

    fn bid(id: &str, price: i64, miles: Option<f64>, minute: u32) -> BidInput {
        BidInput {
            bid_id: id.into(),
            provider_id: format!("prov-{id}"),
            weekly_price_pence: price,
            provider_response_pence: Some(400_000),
            distance_miles: miles,
            submitted_at: at(minute),
        }
    }

    fn mark(points: Option<u32>, passed: Option<bool>, reason: &str) -> Mark {
        Mark {
            points,
            passed,
            reason: reason.into(),
        }
    }

    #[test]
    fn price_is_pro_rata_to_the_lowest_and_location_linear_in_distance() {
        let criteria = [
            Criterion::scored(CriterionName::Price, 60),
            Criterion::scored(CriterionName::Location, 40),
        ];
        let bids = [
            bid("a", 200_000, Some(0.0), 0),
            bid("b", 300_000, Some(5.0), 1),
            bid("c", 250_000, Some(25.0), 2),
        ];
        let e = evaluate(&criteria, 20.0, &bids, &Marks::new());
        let a = e.bid("a").unwrap();
        assert_eq!(a.score_of(CriterionName::Price), Some(6000));
        assert_eq!(a.score_of(CriterionName::Location), Some(4000));
        let b = e.bid("b").unwrap();
        // 60 × 2000/3000 = 40.00; 40 × (1 − 5/20) = 30.00
        assert_eq!(b.score_of(CriterionName::Price), Some(4000));
        assert_eq!(b.score_of(CriterionName::Location), Some(3000));
        let c = e.bid("c").unwrap();
        assert_eq!(c.score_of(CriterionName::Price), Some(4800));
        assert_eq!(
            c.score_of(CriterionName::Location),
            Some(0),
            "beyond max: 0"
        );
        assert_eq!(e.winner.as_deref(), Some("a"));
        assert_eq!(
            e.ranking.iter().map(|r| r.rank).collect::<Vec<_>>(),
            vec![Some(1), Some(2), Some(3)]
        );
        // b: 70.00, c: 48.00
        assert_eq!((b.total, c.total), (7000, 4800));
        assert!(e.complete && e.gates_decided);
    }

    #[test]
    fn price_rounds_half_up_to_the_hundredth() {
        // 60 × 199,999 / 280,900 = 42.7196… → 42.72
        let criteria = [Criterion::scored(CriterionName::Price, 60)];
        let bids = [bid("a", 199_999, None, 0), bid("b", 280_900, None, 1)];
        let e = evaluate(&criteria, 20.0, &bids, &Marks::new());
        assert_eq!(e.bid("b").unwrap().total, 4272);
    }

    #[test]
    fn gates_come_first_and_failed_bids_do_not_set_the_price_bar() {
        let criteria = [
            Criterion::gate(CriterionName::Location),
            Criterion::gate(CriterionName::Compatibility),
            Criterion::scored(CriterionName::Price, 100),
        ];
        let bids = [
            bid("cheap-far", 100_000, Some(40.0), 0),
            bid("near", 200_000, Some(3.0), 1),
            bid("undecided", 150_000, Some(3.0), 2),
        ];
        let mut marks = Marks::new();
        marks.insert(
            ("cheap-far".into(), CriterionName::Compatibility),
            mark(None, Some(true), "fits"),
        );
        marks.insert(
            ("near".into(), CriterionName::Compatibility),
            mark(None, Some(true), "fits"),
        );
        let e = evaluate(&criteria, 20.0, &bids, &marks);
        assert_eq!(e.winner.as_deref(), Some("near"));
        let near = e.bid("near").unwrap();
        assert_eq!(near.total, 10_000, "the only acceptable bid sets the bar");
        let far = e.bid("cheap-far").unwrap();
        assert!(!far.acceptable && far.rank.is_none());
        assert!(far.reasons[0].contains("did not pass the location requirement"));
        assert!(far.reasons[0].contains("40.0 miles"));
        let und = e.bid("undecided").unwrap();
        assert_eq!(und.pending, vec![CriterionName::Compatibility]);
        assert!(!e.gates_decided);
        assert_eq!(
            e.ranking
                .iter()
                .map(|r| r.bid_id.as_str())
                .collect::<Vec<_>>(),
            vec!["near", "undecided", "cheap-far"]
        );
        // A commissioner's mark overrides the automatic location result.
        marks.insert(
            ("cheap-far".into(), CriterionName::Location),
            mark(None, Some(true), "family nearby"),
        );
        let e = evaluate(&criteria, 20.0, &bids, &marks);
        assert_eq!(e.winner.as_deref(), Some("cheap-far"));
    }

    #[test]
    fn a_price_gate_above_the_provider_response_waits_for_the_commissioner() {
        let criteria = [
            Criterion::gate(CriterionName::Price),
            Criterion::scored(CriterionName::Quality, 100),
        ];
        let mut over = bid("over", 450_000, None, 0);
        over.provider_response_pence = Some(400_000);
        let e = evaluate(&criteria, 20.0, &[over], &Marks::new());
        assert_eq!(e.ranking[0].gates[0].passed, None);
        assert!(e.winner.is_none() && !e.gates_decided);
    }

    #[test]
    fn ties_go_to_quality_then_price_then_the_earlier_bid() {
        let criteria = [
            Criterion::scored(CriterionName::Quality, 50),
            Criterion::scored(CriterionName::ServiceOffer, 50),
        ];
        let bids = [
            bid("late", 200_000, None, 5),
            bid("early", 200_000, None, 1),
            bid("cheaper", 190_000, None, 9),
            bid("quality", 250_000, None, 9),
        ];
        let mut marks = Marks::new();
        for (b, q, s) in [
            ("late", 40, 40),
            ("early", 40, 40),
            ("cheaper", 40, 40),
            ("quality", 45, 35),
        ] {
            marks.insert((b.into(), CriterionName::Quality), mark(Some(q), None, "q"));
            marks.insert(
                (b.into(), CriterionName::ServiceOffer),
                mark(Some(s), None, "s"),
            );
        }
        let e = evaluate(&criteria, 20.0, &bids, &marks);
        assert_eq!(
            e.ranking
                .iter()
                .map(|r| r.bid_id.as_str())
                .collect::<Vec<_>>(),
            vec!["quality", "cheaper", "early", "late"]
        );
        assert!(e.bid("cheaper").unwrap().reasons[0].contains("higher quality score"));
        let outcomes = outcomes(&e, None);
        assert_eq!(outcomes.len(), 3);
        let late = outcomes
            .iter()
            .find(|o| o.provider_id == "prov-late")
            .unwrap();
        assert_eq!((late.total, late.winner_total), (Some(8000), Some(8000)));
        let q = late
            .scores
            .iter()
            .find(|s| s.criterion == "quality")
            .unwrap();
        assert_eq!(
            (q.score, q.winner_score, q.weight),
            (Some(4000), Some(4500), 50)
        );
        assert!(
            late.reasons
                .iter()
                .any(|r| r.starts_with("quality: 40.00 against 45.00"))
        );
    }

    #[test]
    fn unscored_criteria_count_zero_and_are_pending() {
        let criteria = [
            Criterion::scored(CriterionName::Price, 60),
            Criterion::scored(CriterionName::Quality, 40),
        ];
        let bids = [bid("a", 199_999, None, 0), bid("b", 280_900, None, 1)];
        let e = evaluate(&criteria, 20.0, &bids, &Marks::new());
        assert_eq!(e.winner.as_deref(), Some("a"));
        assert!(e.gates_decided && !e.complete);
        assert_eq!(e.ranking[0].pending, vec![CriterionName::Quality]);
        let o = outcomes(&e, None);
        assert!(
            o[0].reasons[0].contains("42.72 out of 100 against 60.00"),
            "{:?}",
            o[0].reasons
        );
        assert!(o[0].reasons[1].contains("£2,809.00"));
    }

    #[test]
    fn no_award_while_a_gate_or_an_acceptable_bids_score_is_undecided() {
        let criteria = [
            Criterion::gate(CriterionName::Compatibility),
            Criterion::scored(CriterionName::Price, 60),
            Criterion::scored(CriterionName::Quality, 40),
        ];
        let bids = [
            bid("a", 200_000, None, 0),
            bid("b", 250_000, None, 1),
            bid("c", 150_000, None, 2),
        ];
        let mut marks = Marks::new();
        for b in ["a", "b"] {
            marks.insert(
                (b.into(), CriterionName::Compatibility),
                mark(None, Some(true), "fits"),
            );
        }
        marks.insert(
            ("a".into(), CriterionName::Quality),
            mark(Some(30), None, "good"),
        );
        let e = evaluate(&criteria, 20.0, &bids, &marks);
        // c's gate is undecided; b is acceptable but quality (40 of 100) is unmarked.
        let todo: Vec<(&str, Vec<CriterionName>)> = e
            .undecided()
            .into_iter()
            .map(|(b, c)| (b.bid_id.as_str(), c))
            .collect();
        assert_eq!(
            todo,
            vec![
                ("b", vec![CriterionName::Quality]),
                ("c", vec![CriterionName::Compatibility])
            ]
        );
        // c fails its gate: it needs no score; b is marked: nothing left.
        marks.insert(
            ("c".into(), CriterionName::Compatibility),
            mark(None, Some(false), "girls only"),
        );
        marks.insert(
            ("b".into(), CriterionName::Quality),
            mark(Some(10), None, "ok"),
        );
        let e = evaluate(&criteria, 20.0, &bids, &marks);
        assert!(e.undecided().is_empty(), "{:?}", e.undecided());
        assert!(!e.complete, "c's quality is unscored, and need not be");
    }

    #[test]
    fn an_unsuccessful_provider_learns_nothing_of_another_unsuccessful_bid() {
        // The cheapest bid ("cheap") loses on quality; "dear" loses too. The winner is "mid".
        let criteria = [
            Criterion::scored(CriterionName::Price, 50),
            Criterion::scored(CriterionName::Quality, 50),
        ];
        let bids = [
            bid("cheap", 250_000, None, 0),
            bid("mid", 300_000, None, 1),
            bid("dear", 360_000, None, 2),
        ];
        let mut marks = Marks::new();
        for (b, q) in [("cheap", 10), ("mid", 50), ("dear", 40)] {
            marks.insert(
                (b.into(), CriterionName::Quality),
                mark(Some(q), None, "seen"),
            );
        }
        let e = evaluate(&criteria, 20.0, &bids, &marks);
        assert_eq!(e.winner.as_deref(), Some("mid"));
        let o = outcomes(&e, Some("Mid Homes Ltd"));
        let dear = o.iter().find(|o| o.provider_id == "prov-dear").unwrap();
        let told = serde_json::to_string(dear).unwrap();
        for other in ["prov-cheap", "cheap", "£2,500.00", "250000", "2,500"] {
            assert!(!told.contains(other), "{other} in {told}");
        }
        // Its own price and scores, the winner's name and per-criterion scores, and where
        // the winning bid was better.
        assert_eq!(dear.weekly_price_pence, Some(360_000));
        assert_eq!(dear.winner_name.as_deref(), Some("Mid Homes Ltd"));
        let q = dear
            .scores
            .iter()
            .find(|s| s.criterion == "quality")
            .unwrap();
        assert_eq!((q.score, q.winner_score), (Some(4000), Some(5000)));
        assert!(told.contains("£3,600.00"), "{told}");
        assert!(
            dear.reasons
                .iter()
                .any(|r| r.starts_with("quality: 40.00 against 50.00")),
            "{:?}",
            dear.reasons
        );
    }

    #[test]
    fn money_and_points_read_as_words_do() {
        assert_eq!(Pence(199_999).to_string(), "£1,999.99");
        assert_eq!(Pence(123_456_789).to_string(), "£1,234,567.89");
        assert_eq!(Pence(5).to_string(), "£0.05");
        assert_eq!(points(4272), "42.72");
    }

    #[test]
    fn fifty_providers_twenty_bids_evaluate_in_well_under_a_millisecond_each() {
        let criteria = [
            Criterion::gate(CriterionName::Compatibility),
            Criterion::scored(CriterionName::Price, 40),
            Criterion::scored(CriterionName::Location, 20),
            Criterion::scored(CriterionName::Quality, 20),
            Criterion::scored(CriterionName::BestMatch, 10),
            Criterion::scored(CriterionName::ServiceOffer, 10),
        ];
        let bids: Vec<BidInput> = (0..20)
            .map(|i| {
                bid(
                    &format!("b{i:02}"),
                    200_000 + i * 1_000,
                    Some(i as f64),
                    i as u32,
                )
            })
            .collect();
        let mut marks = Marks::new();
        for b in &bids {
            for c in criteria.iter().filter(|c| !c.criterion.is_automatic()) {
                marks.insert(
                    (b.bid_id.clone(), c.criterion),
                    mark(Some(c.weight / 2), Some(true), "ok"),
                );
            }
        }
        let started = std::time::Instant::now();
        for _ in 0..100 {
            let e = evaluate(&criteria, 20.0, &bids, &marks);
            assert_eq!(e.winner.as_deref(), Some("b00"));
        }
        let each = started.elapsed() / 100;
        eprintln!("20 bids × 6 criteria: {each:?} per evaluation");
        assert!(
            each < std::time::Duration::from_millis(20),
            "{each:?} per evaluation"
        );
    }
}
