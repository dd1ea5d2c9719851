//! Placement stability figures for a council: placements per child, breakdowns, and the share
//! of children placed locally by each partnership's own measure (D2N2: within 20 miles of
//! Nottingham city centre). No I/O.

use std::collections::{BTreeMap, HashSet};

use chrono::NaiveDate;
use hub_platform::directory::{self, LocalArea, distance_miles};
use serde::Serialize;
use utoipa::ToSchema;

use super::placements::EndReason;

/// What the figures need of a placement (no child's personal data: a referral id, dates,
/// codes and the home's position).
#[derive(Debug, Clone)]
pub struct Stay {
    pub referral_id: String,
    pub partnership: String,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
    pub end_reason: Option<EndReason>,
    pub home: Option<(f64, f64)>,
}

impl Stay {
    /// The placement was going on at some time in `from ..= to`.
    fn overlaps(&self, from: Option<NaiveDate>, to: Option<NaiveDate>) -> bool {
        to.is_none_or(|t| self.start_date <= t)
            && from.is_none_or(|f| self.end_date.is_none_or(|e| e >= f))
    }

    fn broke_down_within(&self, from: Option<NaiveDate>, to: Option<NaiveDate>) -> bool {
        self.end_reason == Some(EndReason::Breakdown)
            && self
                .end_date
                .is_some_and(|e| from.is_none_or(|f| e >= f) && to.is_none_or(|t| e <= t))
    }
}

/// How many children had one, two, or three or more placements.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct ChildrenByPlacements {
    pub one: u32,
    pub two: u32,
    pub three_or_more: u32,
}

/// Local placements by a partnership's measure.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct LocalShare {
    pub partnership: String,
    /// What the partnership counts as local; none where it has not said (then no share).
    pub local_area: Option<LocalArea>,
    /// Children whose latest placement in the window is in this partnership.
    pub children: u32,
    /// Of those, the children whose latest placement's home position is known.
    pub children_with_home_position: u32,
    /// Of those, the children whose latest placement is within the local distance.
    pub children_placed_locally: u32,
    /// `children_placed_locally` / `children_with_home_position`, as a percentage to one
    /// decimal place.
    pub local_share_percent: Option<f64>,
}

/// A council's placement stability figures over a window (or all time).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(as = PlacementStability)]
pub struct Stability {
    pub council: String,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// Children (referrals) with a placement going on in the window.
    pub children: u32,
    /// Placements going on in the window.
    pub placements: u32,
    /// `placements / children`, to two decimal places.
    pub placements_per_child: Option<f64>,
    pub children_by_placements: ChildrenByPlacements,
    /// Placements that ended in the window by breaking down.
    pub breakdowns: u32,
    pub children_with_a_breakdown: u32,
    /// By partnership, sorted by code.
    pub local: Vec<LocalShare>,
}

fn round_to(x: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (x * f).round() / f
}

/// Whether `home` is within `area`'s local distance of its centre.
pub fn is_local(area: &LocalArea, home: (f64, f64)) -> bool {
    distance_miles(area.latitude, area.longitude, home.0, home.1) <= area.radius_miles
}

/// The figures for `council` from its placements `stays`, over `from ..= to` (either open).
pub fn stability(
    council: &str,
    stays: &[Stay],
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Stability {
    let in_window: Vec<&Stay> = stays.iter().filter(|s| s.overlaps(from, to)).collect();
    let mut by_child: BTreeMap<&str, Vec<&Stay>> = BTreeMap::new();
    for s in &in_window {
        by_child.entry(s.referral_id.as_str()).or_default().push(s);
    }
    let mut counts = ChildrenByPlacements::default();
    for list in by_child.values() {
        match list.len() {
            1 => counts.one += 1,
            2 => counts.two += 1,
            _ => counts.three_or_more += 1,
        }
    }
    let broke: Vec<&&Stay> = in_window
        .iter()
        .filter(|s| s.broke_down_within(from, to))
        .collect();
    let children_with_a_breakdown = broke
        .iter()
        .map(|s| s.referral_id.as_str())
        .collect::<HashSet<_>>()
        .len() as u32;

    let mut local: BTreeMap<&str, LocalShare> = BTreeMap::new();
    for list in by_child.values() {
        let latest = list
            .iter()
            .max_by_key(|s| s.start_date)
            .expect("a child has a placement");
        let share = local
            .entry(latest.partnership.as_str())
            .or_insert_with(|| LocalShare {
                partnership: latest.partnership.clone(),
                local_area: directory::partnership(&latest.partnership).and_then(|p| p.local),
                children: 0,
                children_with_home_position: 0,
                children_placed_locally: 0,
                local_share_percent: None,
            });
        share.children += 1;
        if let Some(home) = latest.home {
            share.children_with_home_position += 1;
            if share.local_area.is_some_and(|a| is_local(&a, home)) {
                share.children_placed_locally += 1;
            }
        }
    }
    let local = local
        .into_values()
        .map(|mut s| {
            s.local_share_percent = (s.local_area.is_some() && s.children_with_home_position > 0)
                .then(|| {
                    round_to(
                        100.0 * s.children_placed_locally as f64
                            / s.children_with_home_position as f64,
                        1,
                    )
                });
            s
        })
        .collect();

    let children = by_child.len() as u32;
    let placements = in_window.len() as u32;
    Stability {
        council: council.to_owned(),
        from,
        to,
        children,
        placements,
        placements_per_child: (children > 0)
            .then(|| round_to(placements as f64 / children as f64, 2)),
        children_by_placements: counts,
        breakdowns: broke.len() as u32,
        children_with_a_breakdown,
        local,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn stay(
        child: &str,
        start: NaiveDate,
        end: Option<(NaiveDate, &str)>,
        home: Option<(f64, f64)>,
    ) -> Stay {
        Stay {
            referral_id: child.into(),
            partnership: "D2N2".into(),
            start_date: start,
            end_date: end.map(|e| e.0),
            end_reason: end.map(|e| e.1.parse().unwrap()),
            home,
        }
    }

    const CLIFTON: (f64, f64) = (52.905, -1.176); // about 3.5 miles from the centre
    const DERBY: (f64, f64) = (52.922, -1.477); // about 14 miles
    const SHEFFIELD: (f64, f64) = (53.381, -1.470); // about 33 miles

    #[test]
    fn d2n2_counts_local_as_within_twenty_miles_of_nottingham() {
        let area = directory::partnership("D2N2").unwrap().local.unwrap();
        assert!(is_local(&area, CLIFTON) && is_local(&area, DERBY));
        assert!(!is_local(&area, SHEFFIELD));
    }

    #[test]
    fn figures_per_child_breakdowns_and_local_share() {
        let stays = [
            // A: broke down, then moved to a local home.
            stay(
                "a",
                d(2026, 4, 10),
                Some((d(2026, 6, 30), "breakdown")),
                Some(SHEFFIELD),
            ),
            stay("a", d(2026, 7, 1), None, Some(DERBY)),
            // B: one placement far away.
            stay("b", d(2026, 5, 1), None, Some(SHEFFIELD)),
            // C: three placements, the latest without a known position.
            stay(
                "c",
                d(2026, 4, 1),
                Some((d(2026, 4, 20), "planned_move")),
                Some(CLIFTON),
            ),
            stay(
                "c",
                d(2026, 4, 21),
                Some((d(2026, 8, 1), "breakdown")),
                Some(CLIFTON),
            ),
            stay("c", d(2026, 8, 2), None, None),
            // D: ended before the window.
            stay(
                "d",
                d(2025, 1, 1),
                Some((d(2026, 3, 31), "breakdown")),
                Some(CLIFTON),
            ),
        ];
        let s = stability(
            "E06000018",
            &stays,
            Some(d(2026, 4, 1)),
            Some(d(2027, 3, 31)),
        );
        assert_eq!((s.children, s.placements), (3, 6));
        assert_eq!(s.placements_per_child, Some(2.0));
        assert_eq!(
            s.children_by_placements,
            ChildrenByPlacements {
                one: 1,
                two: 1,
                three_or_more: 1
            }
        );
        assert_eq!((s.breakdowns, s.children_with_a_breakdown), (2, 2));
        let l = &s.local[0];
        assert_eq!(
            (
                l.children,
                l.children_with_home_position,
                l.children_placed_locally
            ),
            (3, 2, 1)
        );
        assert_eq!(l.local_share_percent, Some(50.0));
        // All time, D counts too: 4 children, 7 placements, 3 breakdowns.
        let all = stability("E06000018", &stays, None, None);
        assert_eq!((all.children, all.placements, all.breakdowns), (4, 7, 3));
        assert_eq!(all.placements_per_child, Some(1.75));
        assert_eq!(all.local[0].local_share_percent, Some(66.7));
    }

    #[test]
    fn a_partnership_without_a_local_measure_has_no_share() {
        let mut s = stay("a", d(2026, 4, 1), None, Some(CLIFTON));
        s.partnership = "LCR-PPA".into();
        let f = stability("E08000014", &[s], None, None);
        assert_eq!(f.local[0].local_area, None);
        assert_eq!(f.local[0].local_share_percent, None);
        let none = stability("E08000014", &[], None, None);
        assert_eq!((none.children, none.placements_per_child), (0, None));
    }
}
