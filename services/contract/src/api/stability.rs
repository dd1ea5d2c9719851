//! Placement stability figures for a council.

use actix_web::{HttpResponse, web};
use chrono::NaiveDate;
use hub_platform::{Principal, Problem};

use super::ContractState;
use crate::{
    domain::{
        is_council_staff,
        stability::{Stability, Stay, stability},
    },
    store::placements::of_council,
};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/v1/placement-stability",
        web::get().to(placement_stability),
    );
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct StabilityQuery {
    /// GSS code of the council (default: the caller's).
    pub council: Option<String>,
    /// Count placements going on from this day (default: since the first).
    pub from: Option<NaiveDate>,
    /// … to this day (default: until now and on).
    pub to: Option<NaiveDate>,
}

/// A council's placement stability (its staff only): placements per child, breakdowns, and
/// the share of children placed within each partnership's local distance.
#[utoipa::path(operation_id = "getPlacementStability", get, path = "/v1/placement-stability", tag = "contract", params(StabilityQuery),
    responses((status = 200, body = Stability), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn placement_stability(
    state: web::Data<ContractState>,
    who: Principal,
    query: web::Query<StabilityQuery>,
) -> Result<HttpResponse, Problem> {
    let q = query.into_inner();
    if who.is_provider() {
        return Err(Problem::forbidden(
            "stability figures are for councils' staff",
        ));
    }
    let council = q.council.unwrap_or_else(|| who.org.clone());
    if !is_council_staff(&who, &council) {
        return Err(Problem::not_found("council"));
    }
    if let (Some(f), Some(t)) = (q.from, q.to)
        && f > t
    {
        return Err(Problem::invalid("to", "min", "`to` is on or after `from`"));
    }
    let figures = state
        .store
        .db
        .run(move |conn| {
            let stays: Vec<Stay> = of_council(conn, &council)?
                .into_iter()
                .map(|p| Stay {
                    home: p.home_latitude.zip(p.home_longitude),
                    referral_id: p.referral_id.to_string(),
                    partnership: p.partnership,
                    start_date: p.start_date,
                    end_date: p.end_date,
                    end_reason: p.end_reason,
                })
                .collect();
            Ok(stability(&council, &stays, q.from, q.to))
        })
        .await?;
    Ok(HttpResponse::Ok().json(figures))
}
