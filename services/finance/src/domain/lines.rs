//! The ledger's lines as posted: a source's cost for one council in one period at one rate,
//! or an adjustment to a closed period with the fact that caused it. No I/O.

use chrono::{NaiveDate, NaiveDateTime};
use hub_platform::{Pence, calendar::FinancialYear};

use super::ledger::{Attribution, CostLine, Posted, SourceKind};
use crate::ids::{ContractId, LineId, SourceId};

/// One commitment line as the ledger holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitmentLine {
    pub id: LineId,
    pub partnership: String,
    /// The council the cost belongs to, or the partnership's code for its own contracts.
    pub council: String,
    pub attribution: Attribution,
    pub budget_line: String,
    pub source_kind: SourceKind,
    pub source_id: SourceId,
    pub contract_id: Option<ContractId>,
    pub bed: Option<i32>,
    pub provider_id: String,
    pub year: i32,
    pub period: i32,
    pub from_date: NaiveDate,
    pub to_date: NaiveDate,
    pub days: i32,
    pub weekly_rate_pence: Pence,
    pub extras_weekly_pence: Pence,
    pub amount_pence: Pence,
    pub created_at: NaiveDateTime,
    /// The closed period an adjustment line adjusts (year and period).
    pub adjusts_year: Option<i32>,
    pub adjusts_period: Option<i32>,
    /// The event that caused an adjustment: its type and id.
    pub cause_event_type: Option<String>,
    pub cause_event_id: Option<String>,
}

impl CommitmentLine {
    /// The line as the ledger rules see it.
    pub fn posted(&self) -> Posted {
        Posted {
            line: CostLine {
                council: self.council.clone(),
                attribution: self.attribution,
                bed: self.bed.and_then(|b| u16::try_from(b).ok()),
                year: FinancialYear(self.year),
                period: self.period as u32,
                from: self.from_date,
                to: self.to_date,
                days: i64::from(self.days),
                weekly: self.weekly_rate_pence,
                extras: self.extras_weekly_pence,
                amount: self.amount_pence,
            },
            adjusts: self
                .adjusts_year
                .zip(self.adjusts_period)
                .map(|(y, p)| (FinancialYear(y), p as u32)),
        }
    }
}
