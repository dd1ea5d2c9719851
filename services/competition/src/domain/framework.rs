//! A framework or purchasing system as the service keeps it, with its lots, admission rounds
//! and the providers admitted to each lot (their Provider Responses). No I/O.

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime};
use hub_platform::{Pence, directory};

use super::{
    FrameworkKind, RoundKind,
    criteria::{Criterion, fallback_criteria},
    round_is_open,
};
use crate::ids::{FrameworkId, LotId, RoundId};

/// A framework or purchasing system of a partnership, led by one of its councils.
#[derive(Debug, Clone)]
pub struct Framework {
    pub id: FrameworkId,
    pub partnership: String,
    pub name: String,
    pub kind: FrameworkKind,
    pub lead_commissioner: String,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub review_date: NaiveDate,
    /// GSS codes of the councils that may call off, as set up (`None` for frameworks set up
    /// before purchasing bodies were recorded).
    pub purchasing_bodies: Option<Vec<String>>,
    pub created_by: String,
    pub created_at: NaiveDateTime,
}

impl Framework {
    /// The councils that may call off: as set up, or (frameworks set up before purchasing
    /// bodies were recorded) the partnership's members.
    pub fn purchasing_bodies(&self) -> Vec<String> {
        self.purchasing_bodies.clone().unwrap_or_else(|| {
            directory::partnership(&self.partnership)
                .map(|p| p.members.iter().map(|m| (*m).to_owned()).collect())
                .unwrap_or_default()
        })
    }

    pub fn may_call_off(&self, council: &str) -> bool {
        self.purchasing_bodies().iter().any(|b| b == council)
    }

    /// Councils that may read the framework: the lead, the purchasing bodies, the
    /// partnership's members.
    pub fn visible_to_council(&self, org: &str) -> bool {
        self.lead_commissioner == org
            || self.may_call_off(org)
            || directory::partnership(&self.partnership).is_some_and(|p| p.has_member(org))
    }
}

/// A lot of a framework.
#[derive(Debug, Clone)]
pub struct Lot {
    pub id: LotId,
    pub framework_id: FrameworkId,
    pub name: String,
    pub placement_type: String,
    pub min_age_years: Option<i32>,
    pub max_age_years: Option<i32>,
    pub cohort: Option<String>,
    /// The criteria its mini-competitions start from, if the lead set them.
    pub default_criteria: Option<Vec<Criterion>>,
}

impl Lot {
    /// The criteria a competition on this lot starts from.
    pub fn criteria(&self) -> Vec<Criterion> {
        self.default_criteria
            .clone()
            .unwrap_or_else(fallback_criteria)
    }
}

/// An admission round of a framework: the set-up round, or a later one of an open system.
#[derive(Debug, Clone)]
pub struct Round {
    pub id: RoundId,
    pub framework_id: FrameworkId,
    pub kind: RoundKind,
    pub note: Option<String>,
    pub closes_on: Option<NaiveDate>,
    pub opened_by: String,
    pub opened_at: NaiveDateTime,
    pub closed_by: Option<String>,
    pub closed_at: Option<NaiveDateTime>,
}

impl Round {
    pub fn is_open(&self, today: NaiveDate) -> bool {
        round_is_open(self.closed_at.is_some(), self.closes_on, today)
    }
}

/// A provider admitted to a lot with its Provider Response (prices by need level).
#[derive(Debug, Clone)]
pub struct AdmittedProvider {
    pub lot_id: LotId,
    pub provider_id: String,
    pub provider_name: String,
    /// The standard rate (else the lowest): what a single price meant before need levels.
    pub weekly_price_pence: Pence,
    /// Weekly prices by need level.
    pub prices: BTreeMap<String, Pence>,
    pub capacity: Option<i32>,
    pub round_id: Option<RoundId>,
    pub admitted_by: String,
    pub admitted_at: NaiveDateTime,
}
