//! The finance service's endpoints: the ledger, pooled budgets and their versions and
//! periods, actuals (payments uploaded as JSON or as a file), and the monitoring report with
//! its drill-down and its CSV/XLSX exports.
//!
//! Queries are passed as they would be written after the `?` (`"partnership=AIM&year=2018"`),
//! so that a test can send the malformed ones the service must refuse.

use actix_web::test::TestRequest;
use serde::Serialize;

use super::referral::with_query;
use crate::{RawReply, Reply, TestApp, User};

/// The spreadsheet media type the monitoring report answers as XLSX.
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The finance service: `app.finance()`.
pub struct Finance<'a>(&'a TestApp);

impl TestApp {
    /// The finance service's client.
    pub fn finance(&self) -> Finance<'_> {
        Finance(self)
    }
}

impl Finance<'_> {
    /// `GET /v1/ledger?{query}`: a partnership's commitment lines for a year.
    pub async fn ledger(&self, user: &User, query: &str) -> Reply {
        self.0.get(user, &with_query("/v1/ledger", query)).await
    }

    /// `POST /v1/budgets`: sets a partnership's pooled budget for a year (version 1).
    pub async fn set_budget(&self, user: &User, body: &impl Serialize) -> Reply {
        self.0.post(user, "/v1/budgets", body).await
    }

    /// `GET /v1/budgets?{query}`.
    pub async fn budgets(&self, user: &User, query: &str) -> Reply {
        self.0.get(user, &with_query("/v1/budgets", query)).await
    }

    /// `GET /v1/budgets/{id}`: the budget at its current version.
    pub async fn budget(&self, user: &User, id: &str) -> Reply {
        self.0.get(user, &format!("/v1/budgets/{id}")).await
    }

    /// `GET /v1/budgets/{id}?version={version}`: the budget as it was at `version`.
    pub async fn budget_version(&self, user: &User, id: &str, version: i64) -> Reply {
        self.0
            .get(user, &format!("/v1/budgets/{id}?version={version}"))
            .await
    }

    /// `POST /v1/budgets/{id}/versions`: a new version of the budget from a period on.
    pub async fn revise_budget(&self, user: &User, id: &str, body: &impl Serialize) -> Reply {
        self.0
            .post(user, &format!("/v1/budgets/{id}/versions"), body)
            .await
    }

    /// `GET /v1/budgets/{id}/periods`: the year's periods, open or closed.
    pub async fn periods(&self, user: &User, id: &str) -> Reply {
        self.0.get(user, &format!("/v1/budgets/{id}/periods")).await
    }

    /// `POST /v1/budgets/{id}/periods/{period}/close`.
    pub async fn close_period(&self, user: &User, id: &str, period: i64) -> Reply {
        self.0
            .post_empty(user, &format!("/v1/budgets/{id}/periods/{period}/close"))
            .await
    }

    /// `POST /v1/actuals` with a JSON body: payments for a period.
    pub async fn upload_payments(&self, user: &User, body: &impl Serialize) -> Reply {
        self.0.post(user, "/v1/actuals", body).await
    }

    /// `POST /v1/actuals?{query}` with `file` as `text/csv`: a file of payments for the period
    /// the query names.
    pub async fn upload_csv(&self, user: &User, query: &str, file: &str) -> Reply {
        self.upload_file(user, query, "text/csv", file).await
    }

    /// `POST /v1/actuals?{query}` with `file` as `content_type` (a file the service may not
    /// take).
    pub async fn upload_file(
        &self,
        user: &User,
        query: &str,
        content_type: &str,
        file: &str,
    ) -> Reply {
        let req = TestRequest::post()
            .uri(&with_query("/v1/actuals", query))
            .insert_header(("content-type", content_type.to_owned()))
            .set_payload(file.to_owned());
        self.0.send(user, req).await
    }

    /// `GET /v1/actuals?{query}`: the payments the caller sees, and their total.
    pub async fn payments(&self, user: &User, query: &str) -> Reply {
        self.0.get(user, &with_query("/v1/actuals", query)).await
    }

    /// `GET /v1/actuals/uploads/{id}`.
    pub async fn upload(&self, user: &User, id: &str) -> Reply {
        self.0.get(user, &format!("/v1/actuals/uploads/{id}")).await
    }

    /// `GET /v1/monitoring?{query}`: the monitoring report as JSON.
    pub async fn monitoring(&self, user: &User, query: &str) -> Reply {
        self.0.get(user, &with_query("/v1/monitoring", query)).await
    }

    /// `GET /v1/monitoring?{query}`, the whole response (a CSV with `format=csv`).
    pub async fn export(&self, user: &User, query: &str) -> RawReply {
        let req = TestRequest::get().uri(&with_query("/v1/monitoring", query));
        self.0.send_raw(user, req).await
    }

    /// `GET /v1/monitoring?{query}` accepting an XLSX workbook (no `format=`), the whole
    /// response.
    pub async fn export_xlsx(&self, user: &User, query: &str) -> RawReply {
        let req = TestRequest::get()
            .uri(&with_query("/v1/monitoring", query))
            .insert_header(("accept", XLSX));
        self.0.send_raw(user, req).await
    }

    /// `GET /v1/monitoring/drill?{query}`: the ledger lines, payments and accruals behind a
    /// figure of the report.
    pub async fn drill(&self, user: &User, query: &str) -> Reply {
        self.0
            .get(user, &with_query("/v1/monitoring/drill", query))
            .await
    }
}
