//! HTTP handlers of the competition service.

use actix_web::{HttpResponse, web};
use chrono::Utc;
use diesel::prelude::*;
use hub_bus::Store;
use hub_events::{BidSubmitted, CompetitionAwarded};
use hub_platform::{Principal, Problem, Role, directory, http::Json};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

use crate::{
    domain::{Admission, Award, NewBid, NewFramework},
    store::{self, AdmissionRow, BidRow, CompetitionRow, FrameworkRow, LotRow, schema::*},
};

pub struct CompetitionState {
    pub store: Store,
}

#[derive(OpenApi)]
#[openapi(
    paths(create_framework, get_framework, admit, list_competitions, get_competition, bid, award),
    tags((name = "competition", description = "Frameworks, lots, admitted providers, mini-competitions"))
)]
pub struct CompetitionApi;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/frameworks", web::post().to(create_framework))
        .route("/v1/frameworks/{id}", web::get().to(get_framework))
        .route(
            "/v1/frameworks/{id}/lots/{lot_id}/providers",
            web::post().to(admit),
        )
        .route("/v1/competitions", web::get().to(list_competitions))
        .route("/v1/competitions/{id}", web::get().to(get_competition))
        .route("/v1/competitions/{id}/bids", web::post().to(bid))
        .route("/v1/competitions/{id}/award", web::post().to(award));
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FrameworkView {
    #[serde(flatten)]
    pub framework: FrameworkRow,
    pub lots: Vec<LotView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LotView {
    #[serde(flatten)]
    pub lot: LotRow,
    pub providers: Vec<AdmissionRow>,
}

/// Set up a framework or purchasing system with its lots (the partnership's lead commissioner).
#[utoipa::path(post, path = "/v1/frameworks", tag = "competition", request_body = NewFramework,
    responses((status = 201, body = FrameworkView), (status = 422, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub async fn create_framework(
    state: web::Data<CompetitionState>,
    who: Principal,
    body: Json<NewFramework>,
) -> Result<HttpResponse, Problem> {
    who.require_any(&[Role::Commissioner])?;
    let input = body.0;
    let partnership = directory::partnership(&input.partnership).expect("validated");
    if partnership.lead_commissioner != who.org {
        return Err(Problem::forbidden(format!(
            "only {}'s lead commissioner ({}) sets up its frameworks",
            partnership.code, partnership.lead_commissioner
        )));
    }
    let now = Utc::now().naive_utc();
    let fw = FrameworkRow {
        id: Uuid::now_v7().to_string(),
        partnership: partnership.code.to_owned(),
        name: input.name.clone(),
        kind: serde_json::to_value(input.kind)
            .map_err(anyhow::Error::from)?
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        lead_commissioner: who.org.clone(),
        start_date: input.start_date,
        end_date: input.end_date,
        created_by: who.sub.clone(),
        created_at: now,
    };
    let lot_rows: Vec<LotRow> = input
        .lots
        .iter()
        .map(|l| LotRow {
            id: Uuid::now_v7().to_string(),
            framework_id: fw.id.clone(),
            name: l.name.clone(),
            placement_type: l.placement_type.clone(),
        })
        .collect();
    let (f, ls) = (fw.clone(), lot_rows.clone());
    state
        .store
        .write(move |conn, _| {
            diesel::insert_into(frameworks::table)
                .values(&f)
                .execute(conn)?;
            for l in &ls {
                diesel::insert_into(lots::table).values(l).execute(conn)?;
            }
            Ok(())
        })
        .await?;
    let lots = lot_rows
        .into_iter()
        .map(|lot| LotView {
            lot,
            providers: Vec::new(),
        })
        .collect();
    Ok(HttpResponse::Created().json(FrameworkView {
        framework: fw,
        lots,
    }))
}

/// A framework with its lots and admitted providers.
#[utoipa::path(get, path = "/v1/frameworks/{id}", tag = "competition",
    responses((status = 200, body = FrameworkView), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn get_framework(
    state: web::Data<CompetitionState>,
    _who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let id = id.into_inner();
    let view = state
        .store
        .db
        .run(move |conn| {
            let framework =
                store::framework(conn, &id)?.ok_or_else(|| Problem::not_found("framework"))?;
            let mut lots = Vec::new();
            for lot in store::lots_of(conn, &framework.id)? {
                let providers = store::admitted(conn, &lot.id)?;
                lots.push(LotView { lot, providers });
            }
            Ok(FrameworkView { framework, lots })
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Admit a provider to a lot with its Provider Response price (the lead commissioner).
#[utoipa::path(post, path = "/v1/frameworks/{id}/lots/{lot_id}/providers", tag = "competition", request_body = Admission,
    responses((status = 201, body = AdmissionRow), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn admit(
    state: web::Data<CompetitionState>,
    who: Principal,
    path: web::Path<(String, String)>,
    body: Json<Admission>,
) -> Result<HttpResponse, Problem> {
    who.require_any(&[Role::Commissioner])?;
    let (framework_id, lot_id) = path.into_inner();
    let input = body.0;
    let row = state
        .store
        .write(move |conn, _| {
            let fw = store::framework(conn, &framework_id)?
                .ok_or_else(|| Problem::not_found("framework"))?;
            if fw.lead_commissioner != who.org {
                return Err(
                    Problem::forbidden("only the lead commissioner admits providers").into(),
                );
            }
            let lot = store::lot(conn, &lot_id)?
                .filter(|l| l.framework_id == fw.id)
                .ok_or_else(|| Problem::not_found("lot"))?;
            if store::admitted(conn, &lot.id)?
                .iter()
                .any(|a| a.provider_id == input.provider_id)
            {
                return Err(Problem::conflict(
                    "already-admitted",
                    "the provider is already admitted to this lot",
                )
                .into());
            }
            let row = AdmissionRow {
                lot_id: lot.id,
                provider_id: input.provider_id,
                provider_name: input.name,
                weekly_price_pence: input.weekly_price_pence,
                admitted_by: who.sub,
                admitted_at: Utc::now().naive_utc(),
            };
            diesel::insert_into(admissions::table)
                .values(&row)
                .execute(conn)?;
            Ok(row)
        })
        .await?;
    Ok(HttpResponse::Created().json(row))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CompetitionView {
    #[serde(flatten)]
    pub competition: CompetitionRow,
    /// The providers invited (the council sees all; a provider sees only itself).
    pub invited: Vec<String>,
    /// Bids (the council sees all; a provider sees only its own).
    pub bids: Vec<BidRow>,
}

/// What the caller may see of a competition, or 404.
fn visible(
    conn: &mut hub_platform::DbConnection,
    who: &Principal,
    id: &str,
) -> Result<CompetitionView, hub_platform::db::DbError> {
    let competition =
        store::competition(conn, id)?.ok_or_else(|| Problem::not_found("competition"))?;
    let invited = store::invited(conn, id)?;
    let bids = store::bids_of(conn, id)?;
    if who.is_provider() {
        if !invited.contains(&who.org) {
            return Err(Problem::not_found("competition").into());
        }
        let own = |p: &String| *p == who.org;
        Ok(CompetitionView {
            competition,
            invited: invited.into_iter().filter(own).collect(),
            bids: bids.into_iter().filter(|b| own(&b.provider_id)).collect(),
        })
    } else if competition.council == who.org {
        Ok(CompetitionView {
            competition,
            invited,
            bids,
        })
    } else {
        Err(Problem::not_found("competition").into())
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct CompetitionQuery {
    pub referral_id: Option<String>,
}

/// Competitions the caller may see: its council's, or those its provider was invited to.
#[utoipa::path(get, path = "/v1/competitions", tag = "competition", params(CompetitionQuery),
    responses((status = 200, body = [CompetitionRow])), security(("bearer" = [])))]
pub async fn list_competitions(
    state: web::Data<CompetitionState>,
    who: Principal,
    query: web::Query<CompetitionQuery>,
) -> Result<HttpResponse, Problem> {
    let referral = query.into_inner().referral_id;
    let rows = state
        .store
        .db
        .run(move |conn| {
            let mut q = competitions::table.into_boxed();
            if let Some(r) = referral {
                q = q.filter(competitions::referral_id.eq(r));
            }
            if who.is_provider() {
                let mine = competition_invitations::table
                    .filter(competition_invitations::provider_id.eq(who.org.clone()))
                    .select(competition_invitations::competition_id);
                q = q.filter(competitions::id.eq_any(mine));
            } else {
                q = q.filter(competitions::council.eq(who.org.clone()));
            }
            Ok(q.order(competitions::created_at.desc())
                .limit(200)
                .select(CompetitionRow::as_select())
                .load(conn)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(rows))
}

/// A competition, as the council or an invited provider may see it.
#[utoipa::path(get, path = "/v1/competitions/{id}", tag = "competition",
    responses((status = 200, body = CompetitionView), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn get_competition(
    state: web::Data<CompetitionState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let id = id.into_inner();
    let view = state
        .store
        .db
        .run(move |conn| visible(conn, &who, &id))
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Bid (an invited provider, before the deadline; a resubmission replaces the live bid).
#[utoipa::path(post, path = "/v1/competitions/{id}/bids", tag = "competition", request_body = NewBid,
    responses((status = 201, body = BidRow), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn bid(
    state: web::Data<CompetitionState>,
    who: Principal,
    id: web::Path<String>,
    body: Json<NewBid>,
) -> Result<HttpResponse, Problem> {
    who.require_any(&[Role::Provider])?;
    let id = id.into_inner();
    let input = body.0;
    let row = state
        .store
        .write(move |conn, events| {
            let view = visible(conn, &who, &id)?;
            let c = view.competition;
            if c.status != "open" {
                return Err(Problem::conflict(
                    "competition-closed",
                    format!("the competition is {}", c.status),
                )
                .into());
            }
            if Utc::now().naive_utc() > c.deadline {
                return Err(Problem::conflict(
                    "deadline-passed",
                    format!("bids closed at {} UTC", c.deadline),
                )
                .into());
            }
            diesel::delete(
                bids::table
                    .filter(bids::competition_id.eq(&c.id))
                    .filter(bids::provider_id.eq(&who.org)),
            )
            .execute(conn)?;
            let row = BidRow {
                id: Uuid::now_v7().to_string(),
                competition_id: c.id.clone(),
                provider_id: who.org.clone(),
                weekly_price_pence: input.weekly_price_pence,
                start_date: input.start_date,
                submitted_by: who.sub.clone(),
                submitted_at: Utc::now().naive_utc(),
            };
            diesel::insert_into(bids::table)
                .values(&row)
                .execute(conn)?;
            events.emit(
                &c.partnership,
                &BidSubmitted {
                    competition_id: Uuid::parse_str(&c.id).map_err(anyhow::Error::from)?,
                    bid_id: Uuid::parse_str(&row.id).map_err(anyhow::Error::from)?,
                    provider_id: who.org.clone(),
                    council: c.council.clone(),
                },
            );
            Ok(row)
        })
        .await?;
    Ok(HttpResponse::Created().json(row))
}

/// Award the competition to a bid (a commissioner of the council whose child it is).
#[utoipa::path(post, path = "/v1/competitions/{id}/award", tag = "competition", request_body = Award,
    responses((status = 200, body = CompetitionRow), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn award(
    state: web::Data<CompetitionState>,
    who: Principal,
    id: web::Path<String>,
    body: Json<Award>,
) -> Result<HttpResponse, Problem> {
    let id = id.into_inner();
    let bid_id = body.bid_id.to_string();
    let row = state
        .store
        .write(move |conn, events| {
            let view = visible(conn, &who, &id)?;
            who.require_any(&[Role::Commissioner])?;
            let mut c = view.competition;
            if c.status != "open" {
                return Err(Problem::conflict(
                    "competition-closed",
                    format!("the competition is {}", c.status),
                )
                .into());
            }
            let winner = view
                .bids
                .iter()
                .find(|b| b.id == bid_id)
                .ok_or_else(|| {
                    Problem::invalid("/bid_id", "exists", "no such bid in this competition")
                })?
                .clone();
            diesel::update(competitions::table.find(&c.id))
                .set((
                    competitions::status.eq("awarded"),
                    competitions::awarded_provider.eq(Some(&winner.provider_id)),
                    competitions::awarded_bid.eq(Some(&winner.id)),
                    competitions::awarded_by.eq(Some(&who.sub)),
                ))
                .execute(conn)?;
            let parse = |s: &str| Uuid::parse_str(s).map_err(anyhow::Error::from);
            events.emit(
                &c.partnership,
                &CompetitionAwarded {
                    competition_id: parse(&c.id)?,
                    referral_id: parse(&c.referral_id)?,
                    council: c.council.clone(),
                    framework_id: parse(&c.framework_id)?,
                    lot_id: parse(&c.lot_id)?,
                    provider_id: winner.provider_id.clone(),
                    bid_id: Some(parse(&winner.id)?),
                    weekly_rate_pence: winner.weekly_price_pence,
                    start_date: winner.start_date,
                    unsuccessful: view
                        .bids
                        .iter()
                        .filter(|b| b.id != winner.id)
                        .map(|b| b.provider_id.clone())
                        .collect(),
                    awarded_by: who.sub.clone(),
                    direct: false,
                    outcomes: Vec::new(),
                },
            );
            c.status = "awarded".into();
            c.awarded_provider = Some(winner.provider_id);
            c.awarded_bid = Some(winner.id);
            c.awarded_by = Some(who.sub.clone());
            Ok(c)
        })
        .await?;
    Ok(HttpResponse::Ok().json(row))
}
