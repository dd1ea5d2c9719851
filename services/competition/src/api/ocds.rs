//! The Open Contracting Data Standard (OCDS 1.1) export of a competition, fed from the
//! service's tables into the pure mapping of `domain::ocds`.

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, NaiveDateTime, Utc};
use hub_platform::{DbConnection, Principal, Problem, db::DbError, directory};

use super::{CompetitionState, path_id};
use crate::{
    domain::{
        Competition, FrameworkKind, Route,
        calloff::{CompetitionCloseReason, LogAction, Status},
        criteria::Mode,
        ocds::{self, ArrangementKind, CloseReason, OcdsInput, Outcome, Publisher},
    },
    store,
};

fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

fn council(gss: &str) -> ocds::Council {
    ocds::Council {
        gss: gss.to_owned(),
        name: directory::council(gss)
            .map(|c| c.name.to_owned())
            .unwrap_or_else(|| gss.to_owned()),
    }
}

fn arrangement(kind: FrameworkKind) -> ArrangementKind {
    match kind {
        FrameworkKind::FrameworkAgreement => ArrangementKind::FrameworkAgreement,
        FrameworkKind::FlexiblePurchasingSystem => ArrangementKind::FlexiblePurchasingSystem,
        FrameworkKind::DynamicPurchasingSystem => ArrangementKind::DynamicPurchasingSystem,
        FrameworkKind::ProviderPartnerAgreement => ArrangementKind::ProviderPartnerAgreement,
    }
}

/// A provider as the export names it: as admitted to the lot, else by its id.
fn provider(names: &HashMap<String, String>, id: &str) -> ocds::Provider {
    ocds::Provider {
        id: id.to_owned(),
        name: names.get(id).cloned().unwrap_or_else(|| id.to_owned()),
    }
}

/// How competition `c` ended, if it has: its award, or when and why it closed.
fn outcome(
    conn: &mut DbConnection,
    c: &Competition,
    names: &HashMap<String, String>,
) -> Result<Outcome, DbError> {
    Ok(match c.status {
        Status::Awarded => Outcome::Awarded(ocds::Award {
            provider: provider(names, c.awarded_provider.as_deref().unwrap_or_default()),
            weekly_price_pence: c.awarded_rate_pence.unwrap_or_default().0,
            start_date: c.awarded_start_date.unwrap_or_else(|| c.created_at.date()),
            date: utc(c.awarded_at.unwrap_or(c.created_at)),
            direct: c.direct,
        }),
        Status::Closed => {
            let at = store::log_of(conn, &c.id)?
                .into_iter()
                .rev()
                .find(|l| l.action == LogAction::Closed)
                .map(|l| l.at)
                .unwrap_or(c.created_at);
            Outcome::Closed {
                at: utc(at),
                reason: match c.closed_reason {
                    Some(
                        CompetitionCloseReason::NeedChanged
                        | CompetitionCloseReason::PlacedElsewhere
                        | CompetitionCloseReason::ReferralWithdrawn,
                    ) => CloseReason::Cancelled,
                    _ => CloseReason::NoAcceptableBid,
                },
            }
        }
        _ => Outcome::Open,
    })
}

/// What the export says about competition `c` (five queries).
pub fn input(conn: &mut DbConnection, c: &Competition) -> Result<OcdsInput, DbError> {
    let fw =
        store::framework(conn, &c.framework_id)?.ok_or_else(|| Problem::not_found("framework"))?;
    let lot = store::lot(conn, &c.lot_id)?.ok_or_else(|| Problem::not_found("lot"))?;
    let names: HashMap<String, String> = store::admitted(conn, &lot.id)?
        .into_iter()
        .map(|a| (a.provider_id, a.provider_name))
        .collect();
    let provider = |id: &str| provider(&names, id);
    let invited = store::invited(conn, &c.id)?;
    let bids = store::bids_of(conn, &c.id)?;
    let opened = c.opened_at.or(if c.direct { c.awarded_at } else { None });
    let outcome = outcome(conn, c, &names)?;
    Ok(OcdsInput {
        framework: ocds::Framework {
            id: fw.id.into(),
            name: fw.name.clone(),
            kind: arrangement(fw.kind),
            lead: council(&fw.lead_commissioner),
            partnership: fw.partnership.clone(),
            start_date: fw.start_date,
            end_date: fw.end_date,
            published_ocid: None,
        },
        lot: ocds::Lot {
            id: lot.id.into(),
            name: lot.name.clone(),
        },
        competition: ocds::Competition {
            id: c.id.into(),
            created_at: utc(opened.unwrap_or(c.created_at)),
            // Bidding ends at the deadline, or earlier if the commissioner closed it early.
            deadline: (!c.direct).then(|| {
                utc(c
                    .bidding_closed_at
                    .map_or(c.deadline, |at| at.min(c.deadline)))
            }),
            council: council(&c.council),
            preselected: c.route == Route::PreselectedMiniCompetition || c.preselection.is_some(),
            criteria: c
                .criteria
                .iter()
                .map(|x| ocds::Criterion {
                    code: x.criterion.to_string(),
                    weight: if x.mode == Mode::PassFail {
                        0
                    } else {
                        x.weight
                    },
                })
                .collect(),
            invited: invited.iter().map(|p| provider(p)).collect(),
            bids: bids
                .iter()
                .map(|b| ocds::Bid {
                    provider_id: b.provider_id.clone(),
                    submitted_at: utc(b.submitted_at),
                })
                .collect(),
            outcome,
        },
    })
}

/// The competition as an OCDS 1.1 release package (tender, award; linked to its framework
/// as a related process), for the council to publish. A draft, or a competition awaiting a
/// direct award, has nothing to publish yet (409).
#[utoipa::path(get, path = "/v1/competitions/{id}/ocds", tag = "competition", operation_id = "getCompetitionOcds",
    responses((status = 200, description = "OCDS 1.1 release package", content_type = "application/json"),
        (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn export(
    state: web::Data<CompetitionState>,
    who: Principal,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let id = id.into_inner();
    let info = req.connection_info().clone();
    let uri = format!("{}://{}{}", info.scheme(), info.host(), req.path());
    let package = state
        .store
        .db
        .run(move |conn| {
            let c = store::competition(conn, &path_id(&id, "competition")?)?
                .filter(|c| !who.is_provider() && c.council == who.org)
                .ok_or_else(|| Problem::not_found("competition"))?;
            if c.opened_at.is_none() && !c.direct {
                c.status.require(
                    &[Status::Open, Status::Awarded, Status::Closed],
                    "publishing",
                )?;
                return Err(Problem::conflict(
                    "competition-state",
                    "the competition was never opened: there is nothing to publish",
                )
                .into());
            }
            let input = input(conn, &c)?;
            let publisher = Publisher::new(council(&c.council).name);
            Ok(ocds::release_package(
                &input,
                &publisher,
                input.last_changed(),
                &uri,
            ))
        })
        .await?;
    Ok(HttpResponse::Ok().json(package))
}
