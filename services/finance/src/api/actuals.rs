//! `/v1/actuals`: payments a finance lead records for a period, as a CSV file or JSON.
//!
//! * Every payment is checked (a problem names each bad line and column) and they are
//!   applied together or not at all.
//! * The same content uploaded again for the same partnership, year, period and council is
//!   the same upload: answered 200 with the first one's record, nothing counted twice. A
//!   payment already recorded (same council and reference) in another upload is skipped if
//!   it is the same, refused if it differs.
//! * A closed period is locked: an upload for it is refused (409 `period-closed`) unless it
//!   asks to be an adjustment (`adjust=true`), when it is posted to the next open period
//!   with the period it belongs to kept on every payment.
//! * A payment belongs to its period: its `paid_on` falls within the period it is sent
//!   for, or it is an explicit adjustment of an earlier period (`adjusts_period`), else 422
//!   naming `/rows/<line>/paid_on` (`/payments/<index>/paid_on` in JSON). See
//!   [`crate::domain::actuals`].
//! * A payment line is at most £10,000,000.00 either way (`Pence::MAX_PAYMENT_LINE`).
//! * A partner's finance staff record their own council's payments; the hosting
//!   authority's record any partner's.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, NaiveDate, Utc};
use hub_platform::{
    FieldError, Pence, Principal, Problem, directory::Partnership, http::parse_json,
    problem::path_id,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};

use super::{FinanceState, query_map, readable};
use crate::{
    app::actuals::{Body, Sender, Target, record},
    domain::{
        PERIODS, YEARS,
        actuals::{self, PaymentIn, RecordedPayment, Upload, UploadFormat},
        bad_period, partnership_param,
    },
    ids::{PaymentId, UploadId},
    store::actuals as store,
};

/// Payments as JSON.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ActualsBody)]
pub struct ActualsJson {
    pub partnership: String,
    pub year: i32,
    /// The period the payments are for (1 = April).
    pub period: i32,
    /// If the period is closed, post them to the next open period as an adjustment.
    #[serde(default)]
    pub adjust: bool,
    pub payments: Vec<PaymentIn>,
}

#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // documents the parameters; they are read from the query map
pub struct CsvParams {
    /// For a CSV body: the partnership.
    partnership: Option<String>,
    /// For a CSV body: the financial year (2018 = 2018/19).
    year: Option<i32>,
    /// For a CSV body: the period (1 = April).
    period: Option<i32>,
    /// For a CSV body: `true` to post a closed period's payments to the next open one.
    adjust: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ActualPayment)]
pub struct PaymentView {
    pub id: PaymentId,
    pub council: String,
    pub year: i32,
    /// The period it is counted in.
    pub period: i32,
    /// For an adjustment: the closed period it belongs to.
    pub adjusts_period: Option<i32>,
    pub budget_line: String,
    pub amount_pence: Pence,
    pub payment_reference: String,
    pub paid_on: NaiveDate,
    pub provider_id: Option<String>,
    pub contract_id: Option<String>,
    pub upload_id: UploadId,
    /// The CSV line (header = 1) or JSON index it came from.
    pub line_no: i32,
}

impl From<RecordedPayment> for PaymentView {
    fn from(p: RecordedPayment) -> Self {
        Self {
            id: p.id,
            council: p.council,
            year: p.year,
            period: p.period,
            adjusts_period: p.adjusts_period,
            budget_line: p.budget_line,
            amount_pence: p.amount_pence,
            payment_reference: p.payment_reference,
            paid_on: p.paid_on,
            provider_id: p.provider_id,
            contract_id: p.contract_id,
            upload_id: p.upload_id,
            line_no: p.line_no,
        }
    }
}

/// The record of an upload.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ActualsUpload)]
pub struct UploadView {
    pub id: UploadId,
    pub partnership: String,
    pub year: i32,
    /// The period the payments were sent for.
    pub requested_period: i32,
    /// The period they are counted in (the next open one for an adjustment).
    pub posted_period: i32,
    pub adjustment: bool,
    /// `csv` or `json`.
    pub format: UploadFormat,
    pub content_sha256: String,
    pub rows: i32,
    /// Payments recorded by this upload.
    pub applied: i32,
    /// Payments skipped because the same payment was recorded before.
    pub already_recorded: i32,
    pub applied_pence: Pence,
    /// True when this content had been uploaded before: the first upload's record, nothing new.
    pub duplicate: bool,
    pub uploaded_by: String,
    pub uploaded_org: String,
    pub uploaded_at: DateTime<Utc>,
    pub payments: Vec<PaymentView>,
}

fn upload_view(u: Upload, duplicate: bool, payments: Vec<RecordedPayment>) -> UploadView {
    UploadView {
        adjustment: u.posted_period != u.requested_period,
        id: u.id,
        partnership: u.partnership,
        year: u.year,
        requested_period: u.requested_period,
        posted_period: u.posted_period,
        format: u.format,
        content_sha256: u.content_sha256,
        rows: u.rows_read,
        applied: u.applied,
        already_recorded: u.already_recorded,
        applied_pence: u.applied_pence,
        duplicate,
        uploaded_by: u.uploaded_by,
        uploaded_org: u.uploaded_org,
        uploaded_at: u.uploaded_at.and_utc(),
        payments: payments.into_iter().map(PaymentView::from).collect(),
    }
}

fn csv_target(req: &HttpRequest) -> Result<Target, Problem> {
    let q = query_map(req)?;
    let mut errors = Vec::new();
    let partnership = partnership_param(&q, "AIM", &mut errors);
    let mut int = |name: &str, range: std::ops::RangeInclusive<i32>, hint: &str| match q
        .get(name)
        .map(|s| s.trim().parse::<i32>())
    {
        Some(Ok(v)) if range.contains(&v) => v,
        _ => {
            errors.push(FieldError::new(name, "required", hint.to_owned()));
            0
        }
    };
    let year = int(
        "year",
        YEARS,
        "the financial year by the year it starts in, e.g. year=2018",
    );
    let period = int(
        "period",
        PERIODS,
        "the period 1 (April) to 12 (March), e.g. period=3",
    );
    let adjust = match q.get("adjust").map(|s| s.trim()) {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            errors.push(FieldError::new("adjust", "type", "adjust is true or false"));
            false
        }
    };
    if errors.is_empty() {
        Ok(Target {
            partnership,
            year,
            period,
            adjust,
        })
    } else {
        Err(Problem::validation(errors))
    }
}

/// Records payments for a period: `text/csv` with `?partnership=&year=&period=[&adjust=true]`,
/// or `application/json` ([`ActualsJson`]).
#[utoipa::path(post, path = "/v1/actuals", tag = "finance", operation_id = "uploadActuals", params(CsvParams),
    request_body(content(
        (ActualsJson = "application/json"),
        (String = "text/csv", example = "payment_reference,paid_on,budget_line,amount\nLIV-0001,2018-06-30,placements,1234.56\n"))),
    responses((status = 201, body = UploadView, description = "recorded"),
        (status = 200, body = UploadView, description = "the same content again: the first upload's record, nothing new"),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "`period-closed` (ask for an adjustment), `year-closed`, or `no-budget`"),
        (status = 415, body = Problem), (status = 422, body = Problem, description = "each bad line and column named")),
    security(("bearer" = [])))]
pub async fn upload(
    state: web::Data<FinanceState>,
    who: Principal,
    req: HttpRequest,
    bytes: web::Bytes,
) -> Result<HttpResponse, Problem> {
    let body = read_body(&req, &bytes)?;
    let partnership = readable(&who, &body.target.partnership)?;
    let sha = content_sha256(partnership.code, &body, &who.org, &bytes);
    let sender = Sender {
        councils: councils_for(partnership, &who.org),
        sub: who.sub.clone(),
        org: who.org.clone(),
    };
    let (upload, duplicate, rows) = state
        .store
        .write(move |conn, _events| {
            if let Some(u) = store::upload_by_hash(conn, partnership.code, &sha)? {
                let rows = store::payments_of_upload(conn, u.id)?;
                return Ok((u, true, rows));
            }
            let (upload, fresh) = record(conn, partnership.code, body, sha, &sender)?;
            Ok((upload, false, fresh))
        })
        .await?;
    if duplicate {
        tracing::info!(upload_id = %upload.id, "the same payments uploaded again; nothing recorded");
        Ok(HttpResponse::Ok().json(upload_view(upload, true, rows)))
    } else {
        tracing::info!(upload_id = %upload.id, partnership = %upload.partnership, applied = upload.applied,
            applied_pence = upload.applied_pence.0, posted_period = upload.posted_period, "payments recorded");
        Ok(HttpResponse::Created()
            .insert_header(("location", format!("/v1/actuals/uploads/{}", upload.id)))
            .json(upload_view(upload, false, rows)))
    }
}

/// Reads a CSV or JSON body (415 for anything else).
fn read_body(req: &HttpRequest, bytes: &[u8]) -> Result<Body, Problem> {
    let content_type = hub_platform::http::media_type(req.headers()).unwrap_or_default();
    match content_type.as_str() {
        "text/csv" => {
            let target = csv_target(req)?;
            let (payments, read_errors) = actuals::read_csv(bytes).map_err(Problem::validation)?;
            Ok(Body {
                target,
                payments,
                read_errors,
                format: UploadFormat::Csv,
                pointer: "/rows",
            })
        }
        "application/json" => json_body(parse_json(bytes)?),
        other => Err(Problem::new(
            actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "The body must be CSV or JSON",
        )
        .with_detail(format!(
            "send Content-Type: text/csv or application/json (got {other})"
        ))),
    }
}

/// A JSON body: its year and period checked first (a CSV's are query parameters).
fn json_body(body: ActualsJson) -> Result<Body, Problem> {
    if !YEARS.contains(&body.year) || !PERIODS.contains(&body.period) {
        return Err(Problem::validation(
            [
                (!YEARS.contains(&body.year))
                    .then(|| FieldError::new("/year", "range", "a financial year such as 2018")),
                (!PERIODS.contains(&body.period)).then(|| bad_period("/period")),
            ]
            .into_iter()
            .flatten()
            .collect(),
        ));
    }
    Ok(Body {
        payments: actuals::from_json(&body.payments),
        target: Target {
            partnership: body.partnership.trim().to_owned(),
            year: body.year,
            period: body.period,
            adjust: body.adjust,
        },
        read_errors: Vec::new(),
        format: UploadFormat::Json,
        pointer: "/payments",
    })
}

/// The councils the caller may record payments for: every member for the hosting authority
/// (its own council first: the default for a line naming none), else its own council.
fn councils_for(partnership: &'static Partnership, org: &str) -> Vec<&'static str> {
    if partnership.finance_host == Some(org) {
        let mut c: Vec<&'static str> = partnership.members.to_vec();
        c.sort_by_key(|m| *m != org);
        c
    } else {
        partnership
            .members
            .iter()
            .copied()
            .filter(|m| *m == org)
            .collect()
    }
}

/// What makes an upload the same upload: partnership, year, period, council, format and the
/// bytes sent.
fn content_sha256(partnership: &str, body: &Body, org: &str, bytes: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(format!(
        "{partnership}\n{}\n{}\n{org}\n{}\n",
        body.target.year, body.target.period, body.format
    ));
    hasher.update(bytes);
    format!("{:x}", hasher.finalize())
}

/// An upload and the payments it recorded: for its uploader's council and the hosting
/// authority; anyone else gets 404.
#[utoipa::path(get, path = "/v1/actuals/uploads/{id}", tag = "finance", operation_id = "getActualsUpload", params(("id" = String, Path)),
    responses((status = 200, body = UploadView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn get_upload(
    state: web::Data<FinanceState>,
    who: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    who.require_any(&[hub_platform::Role::Finance])?;
    let id: UploadId = path_id(&path, "upload")?;
    let found = state
        .store
        .db
        .run(move |conn| {
            let Some(u) = store::upload(conn, id)? else {
                return Ok(None);
            };
            let rows = store::payments_of_upload(conn, u.id)?;
            Ok(Some((u, rows)))
        })
        .await?;
    let (u, rows) = found.ok_or_else(|| Problem::not_found("upload"))?;
    let partnership = readable(&who, &u.partnership).map_err(|_| Problem::not_found("upload"))?;
    let host = partnership.finance_host == Some(who.org.as_str());
    if !host && u.uploaded_org != who.org {
        return Err(Problem::not_found("upload"));
    }
    Ok(HttpResponse::Ok().json(upload_view(u, false, rows)))
}

#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ListParams {
    partnership: String,
    year: i32,
    /// Only this period (by the period payments are counted in).
    period: Option<i32>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ActualPaymentList)]
pub struct PaymentList {
    pub partnership: String,
    pub year: i32,
    /// Whose payments these are: every partner's for the hosting authority, else the caller's.
    pub councils: Vec<String>,
    pub payments: Vec<PaymentView>,
    pub total_pence: Pence,
}

/// Payments recorded for a year (or one period): the hosting authority sees every partner's,
/// a partner its own.
#[utoipa::path(get, path = "/v1/actuals", tag = "finance", operation_id = "listActuals", params(ListParams),
    responses((status = 200, body = PaymentList), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn list(
    state: web::Data<FinanceState>,
    who: Principal,
    req: HttpRequest,
) -> Result<HttpResponse, Problem> {
    who.require_any(&[hub_platform::Role::Finance])?;
    let q = query_map(&req)?;
    let query = crate::domain::LedgerQuery::parse(&q).map_err(Problem::validation)?;
    let period = match q.get("period").map(|p| p.trim().parse::<i32>()) {
        None => None,
        Some(Ok(p)) if PERIODS.contains(&p) => Some(p),
        Some(_) => return Err(Problem::validation(vec![bad_period("period")])),
    };
    let partnership = readable(&who, &query.partnership)?;
    let host = partnership.finance_host == Some(who.org.as_str());
    let own = (!host).then(|| who.org.clone());
    let year = query.year.0;
    let rows = state
        .store
        .db
        .run(move |conn| {
            let range = period.map_or(PERIODS, |p| p..=p);
            store::payments_in(conn, partnership.code, year, range, own.as_deref())
        })
        .await?;
    // Each payment is bounded, but a year may hold any number of them: the sum is checked.
    let total = rows
        .iter()
        .try_fold(Pence::ZERO, |t, r| t.checked_add(r.amount_pence))
        .ok_or_else(|| {
            Problem::conflict(
                "figure-out-of-range",
                "the payments' total is beyond what pence can hold",
            )
        })?;
    Ok(HttpResponse::Ok().json(PaymentList {
        partnership: partnership.code.to_owned(),
        year,
        councils: if host {
            partnership
                .members
                .iter()
                .map(|m| (*m).to_owned())
                .collect()
        } else {
            vec![who.org.clone()]
        },
        total_pence: total,
        payments: rows.into_iter().map(PaymentView::from).collect(),
    }))
}
