//! The council's list, and every refusal: wrong role 403, another organisation's id 404, bad
//! input 422; referrals that would go nowhere (a framework or lot that will not take them);
//! stored values that cannot be read.

mod common;

use common::{CHILD, DOB, document, for_framework, framework, new_referral, problem_type, start};
use hub_events::{FrameworkPublished, ReferralReturnReason, ReferralReturned, ReferralSubmitted};
use hub_platform::{
    Role,
    directory::{HALTON, KNOWSLEY, SEFTON},
};
use hub_testkit::{Reply, TestApp, User, on_both};
use serde_json::json;
use uuid::Uuid;

/// Four referrals, oldest first: Sefton's draft, Sefton's submitted, Knowsley's submitted,
/// Sefton's submitted; Sefton's commissioner and Knowsley's social worker.
struct Four {
    app: TestApp,
    sefton: User,
    knowsley: User,
    ids: Vec<String>,
}

async fn four_referrals(url: &str) -> Four {
    let app = start(url).await;
    let sefton = app.user(SEFTON, Role::Commissioner);
    let knowsley = app.user(KNOWSLEY, Role::SocialWorker);
    let mut ids = Vec::new();
    for (user, submit) in [
        (&sefton, false),
        (&sefton, true),
        (&knowsley, true),
        (&sefton, true),
    ] {
        let (s, r) = app
            .referrals()
            .create(user, &new_referral("mini_competition", submit))
            .await;
        assert_eq!(s, 201, "{r}");
        ids.push(r["id"].as_str().unwrap().to_owned());
    }
    Four {
        app,
        sefton,
        knowsley,
        ids,
    }
}

/// The council lists its own referrals, newest first, without the child's data; by status,
/// and as many as asked for.
async fn the_councils_list_is_its_own_newest_first(url: &str) {
    let Four {
        app,
        sefton,
        knowsley,
        ids,
    } = four_referrals(url).await;
    let referrals = app.referrals();
    let (s, list) = referrals.list(&sefton, "").await;
    assert_eq!(s, 200);
    let list = &list["items"];
    let got: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        got,
        [ids[3].as_str(), ids[1].as_str(), ids[0].as_str()],
        "the council's own, newest first"
    );
    let text = list.to_string();
    assert!(
        !text.contains(CHILD) && !text.contains(DOB) && !text.contains("document"),
        "{text}"
    );
    let (_, list) = referrals.list(&sefton, "status=draft").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(list["items"][0]["id"], ids[0].as_str());
    let (_, list) = referrals.list(&sefton, "status=submitted&limit=1").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(list["items"][0]["id"], ids[3].as_str());
    let (_, list) = referrals.list(&knowsley, "").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
}

on_both!(
    the_councils_list_is_its_own_newest_first,
    the_councils_list_is_its_own_newest_first_on_sqlite,
    the_councils_list_is_its_own_newest_first_on_postgres
);

/// A list asked for with a bad status or limit is 422; providers and finance do not list.
async fn bad_list_queries_and_roles_are_refused(url: &str) {
    let Four { app, sefton, .. } = four_referrals(url).await;
    let referrals = app.referrals();
    for q in ["status=open", "limit=0", "limit=201", "limit=x"] {
        let (s, r) = referrals.list(&sefton, q).await;
        assert_eq!((s, problem_type(&r)), (422, "/problems/validation"), "{q}");
    }
    for (org, role) in [("prov-a", Role::Provider), (SEFTON, Role::Finance)] {
        let (s, r) = referrals.list(&app.user(org, role), "").await;
        assert_eq!(
            (s, problem_type(&r)),
            (403, "/problems/forbidden"),
            "{org} {role:?}"
        );
    }
}

on_both!(
    bad_list_queries_and_roles_are_refused,
    bad_list_queries_and_roles_are_refused_on_sqlite,
    bad_list_queries_and_roles_are_refused_on_postgres
);

/// Another council's referral: 404 for every verb.
async fn another_councils_referral_is_not_found(url: &str) {
    let Four {
        app,
        sefton,
        knowsley,
        ids,
    } = four_referrals(url).await;
    let (referrals, id, k) = (app.referrals(), &ids[1], &knowsley);
    let reroute = json!({"route": "spot_purchase", "reason": "no framework provider"});
    // Even with the referral's current ETag (read by its own council).
    let tag = referrals.etag(&sefton, id).await;
    for (what, (s, r)) in [
        ("GET", referrals.get(k, id).await),
        ("PUT", referrals.update(k, id, &tag, &document()).await),
        ("submit", referrals.submit(k, id).await),
        (
            "withdraw",
            referrals
                .withdraw(k, id, &json!({"reason": "duplicate"}))
                .await,
        ),
        ("route", referrals.reroute(k, id, &tag, &reroute).await),
        (
            "close",
            referrals.close(k, id, &json!({"reason": "x"})).await,
        ),
        ("versions", referrals.versions(k, id).await),
        ("reads", referrals.reads(k, id).await),
        ("history", referrals.history(k, id).await),
    ] {
        assert_eq!(
            (s, problem_type(&r)),
            (404, "/problems/not-found"),
            "{what} {id}"
        );
    }
}

on_both!(
    another_councils_referral_is_not_found,
    another_councils_referral_is_not_found_on_sqlite,
    another_councils_referral_is_not_found_on_postgres
);

/// The wrong role: 403 whatever the id; Sefton's finance team does not read children's
/// referrals.
async fn the_wrong_role_is_forbidden(url: &str) {
    let Four {
        app, sefton, ids, ..
    } = four_referrals(url).await;
    let (referrals, id) = (app.referrals(), &ids[1]);
    let reroute = json!({"route": "spot_purchase", "reason": "no framework provider"});
    // Even with the referral's current ETag (read by its council's commissioner).
    let tag = referrals.etag(&sefton, id).await;
    for (org, role) in [(SEFTON, Role::Finance), ("prov-a", Role::Provider)] {
        let u = &app.user(org, role);
        for (what, (s, r)) in [
            ("PUT", referrals.update(u, id, &tag, &document()).await),
            (
                "withdraw",
                referrals
                    .withdraw(u, id, &json!({"reason": "duplicate"}))
                    .await,
            ),
            ("route", referrals.reroute(u, id, &tag, &reroute).await),
            (
                "close",
                referrals.close(u, id, &json!({"reason": "x"})).await,
            ),
        ] {
            assert_eq!(
                (s, problem_type(&r)),
                (403, "/problems/forbidden"),
                "{org} {what} {id}"
            );
        }
    }
    assert_eq!(
        referrals.get(&app.user(SEFTON, Role::Finance), id).await.0,
        404
    );
}

on_both!(
    the_wrong_role_is_forbidden,
    the_wrong_role_is_forbidden_on_sqlite,
    the_wrong_role_is_forbidden_on_postgres
);

/// Bad documents are refused whole, naming the field and the rule; the structured fields an
/// invited provider reads are checked too: a full postcode is not a district, and contact is
/// a kind and a frequency, not words. Nothing is half-written.
async fn bad_documents_are_refused_naming_the_field(url: &str) {
    let Four {
        app, sefton, ids, ..
    } = four_referrals(url).await;
    let (referrals, id) = (app.referrals(), &ids[1]);
    let tag = &referrals.etag(&sefton, id).await;
    let mut bad = document();
    bad["nickname"] = json!("J");
    let (s, r) = referrals.update(&sefton, id, tag, &bad).await;
    assert_eq!(
        (
            s,
            r["errors"][0]["field"].as_str(),
            r["errors"][0]["rule"].as_str()
        ),
        (422, Some("/nickname"), Some("unknown_field"))
    );
    let mut bad = document();
    bad["needs"] = json!(["flying"]);
    bad["child"]["name"] = json!(" ");
    let (s, r) = referrals.update(&sefton, id, tag, &bad).await;
    let fields: Vec<&str> = r["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!((s, fields), (422, vec!["/child/name", "/needs/0"]));
    let mut bad = document();
    bad["education"]["school_postcode_district"] = json!("L21 4PQ");
    let (s, r) = referrals.update(&sefton, id, tag, &bad).await;
    assert_eq!(
        (s, r["errors"][0]["field"].as_str()),
        (422, Some("/education/school_postcode_district")),
        "{r}"
    );
    let mut bad = document();
    bad["contact"] = json!([{"kind": "mum Sinead", "frequency": "weekly"}]);
    let (s, r) = referrals.update(&sefton, id, tag, &bad).await;
    assert_eq!(
        (s, r["errors"][0]["field"].as_str()),
        (422, Some("/contact/0/kind")),
        "{r}"
    );
    let (_, r) = referrals.get(&sefton, id).await;
    assert_eq!(r["version"], 1, "nothing half-written");
}

on_both!(
    bad_documents_are_refused_naming_the_field,
    bad_documents_are_refused_naming_the_field_on_sqlite,
    bad_documents_are_refused_naming_the_field_on_postgres
);

/// A re-routing needs a reason and a known route; nothing is half-written.
async fn bad_routes_are_refused_naming_the_field(url: &str) {
    let Four {
        app, sefton, ids, ..
    } = four_referrals(url).await;
    let (referrals, id) = (app.referrals(), &ids[1]);
    let tag = &referrals.etag(&sefton, id).await;
    let (s, r) = referrals
        .reroute(
            &sefton,
            id,
            tag,
            &json!({"route": "spot_purchase", "reason": " "}),
        )
        .await;
    assert_eq!(
        (s, r["errors"][0]["field"].as_str()),
        (422, Some("/reason"))
    );
    let (s, r) = referrals
        .reroute(
            &sefton,
            id,
            tag,
            &json!({"route": "anywhere", "reason": "x"}),
        )
        .await;
    assert_eq!((s, r["errors"][0]["field"].as_str()), (422, Some("/route")));
    let (_, r) = referrals.get(&sefton, id).await;
    assert_eq!(r["version"], 1, "nothing half-written");
}

on_both!(
    bad_routes_are_refused_naming_the_field,
    bad_routes_are_refused_naming_the_field_on_sqlite,
    bad_routes_are_refused_naming_the_field_on_postgres
);

/// A submitted referral is not closed before it is placed, nor submitted again.
async fn a_submitted_referral_is_not_closed_or_resubmitted(url: &str) {
    let Four {
        app, sefton, ids, ..
    } = four_referrals(url).await;
    let (referrals, id) = (app.referrals(), &ids[1]);
    let (s, r) = referrals
        .close(&sefton, id, &json!({"reason": "done"}))
        .await;
    assert_eq!(
        (s, problem_type(&r)),
        (409, "/problems/referral-not-placed")
    );
    let (s, r) = referrals.submit(&sefton, id).await;
    assert_eq!((s, problem_type(&r)), (409, "/problems/referral-not-draft"));
}

on_both!(
    a_submitted_referral_is_not_closed_or_resubmitted,
    a_submitted_referral_is_not_closed_or_resubmitted_on_sqlite,
    a_submitted_referral_is_not_closed_or_resubmitted_on_postgres
);

/// A draft's route changes in place.
async fn a_drafts_route_changes_in_place(url: &str) {
    let Four {
        app, sefton, ids, ..
    } = four_referrals(url).await;
    let (referrals, draft) = (app.referrals(), &ids[0]);
    let reroute = json!({"route": "spot_purchase", "reason": "no framework provider"});
    let tag = referrals.etag(&sefton, draft).await;
    let (s, r) = referrals.reroute(&sefton, draft, &tag, &reroute).await;
    assert_eq!(
        (s, r["version"].as_i64(), r["route"].as_str()),
        (200, Some(1), Some("spot_purchase"))
    );
    let (_, v) = referrals.versions(&sefton, draft).await;
    let v = &v["items"];
    assert_eq!(
        (v[0]["route"].as_str(), v[0]["route_reason"].as_str()),
        (Some("spot_purchase"), Some("no framework provider"))
    );
}

on_both!(
    a_drafts_route_changes_in_place,
    a_drafts_route_changes_in_place_on_sqlite,
    a_drafts_route_changes_in_place_on_postgres
);

// ---------------------------------------------------------------------------------------
// No referral silently goes nowhere: what the replica of the competition service's
// frameworks can tell is refused at write and at submit (422 naming the field, nothing
// written); what only the competition service can tell comes back as
// `competition.referral_returned`, and the council sees the referral `returned` with the
// reason code, to re-route it.

/// The replica knows two frameworks: the PPA's (Sefton and Halton buy from it; `lot`) and
/// AIM's (Sefton and Knowsley; `other_lot`). Sefton's and Knowsley's commissioners.
struct Frameworks {
    app: TestApp,
    sefton: User,
    knowsley: User,
    ppa: FrameworkPublished,
    aim: FrameworkPublished,
    lot: Uuid,
    other_lot: Uuid,
}

async fn two_frameworks(url: &str) -> Frameworks {
    let app = start(url).await;
    let (lot, other_lot) = (Uuid::now_v7(), Uuid::now_v7());
    let ppa = framework("LCR-PPA", &[SEFTON, HALTON], &[lot]);
    app.publish("competition", &ppa).await;
    let aim = framework("AIM", &[SEFTON, KNOWSLEY], &[other_lot]);
    app.publish("competition", &aim).await;
    Frameworks {
        sefton: app.user(SEFTON, Role::Commissioner),
        knowsley: app.user(KNOWSLEY, Role::Commissioner),
        app,
        ppa,
        aim,
        lot,
        other_lot,
    }
}

/// A validation problem whose first error is `field` and `rule`.
#[track_caller]
fn assert_refused((s, r): Reply, field: &str, rule: &str) {
    assert_eq!((s, problem_type(&r)), (422, "/problems/validation"), "{r}");
    assert_eq!(
        (
            r["errors"][0]["field"].as_str(),
            r["errors"][0]["rule"].as_str()
        ),
        (Some(field), Some(rule)),
        "{r}"
    );
}

/// A lot that is not the framework's (even for a draft), a framework of another
/// partnership, a council that is not one of the purchasing bodies: refused, nothing
/// written, nothing sent.
async fn what_the_replica_can_tell_is_refused_at_write(url: &str) {
    let f = two_frameworks(url).await;
    let referrals = f.app.referrals();
    let (sefton, knowsley) = (&f.sefton, &f.knowsley);
    assert_refused(
        referrals
            .create(sefton, &for_framework(&f.ppa, f.other_lot, false))
            .await,
        "/lot_id",
        "in_framework",
    );
    assert_refused(
        referrals
            .create(sefton, &for_framework(&f.aim, f.other_lot, true))
            .await,
        "/framework_id",
        "partnership",
    );
    assert_refused(
        referrals
            .create(knowsley, &for_framework(&f.ppa, f.lot, true))
            .await,
        "/framework_id",
        "purchasing_body",
    );
    assert!(
        f.app.outbox().await.is_empty(),
        "nothing written, nothing sent"
    );
    let (_, list) = referrals.list(sefton, "").await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(0), "{list}");
}

on_both!(
    what_the_replica_can_tell_is_refused_at_write,
    what_the_replica_can_tell_is_refused_at_write_on_sqlite,
    what_the_replica_can_tell_is_refused_at_write_on_postgres
);

/// The right framework and lot: accepted.
async fn the_right_framework_and_lot_are_accepted(url: &str) {
    let f = two_frameworks(url).await;
    let (s, r) = f
        .app
        .referrals()
        .create(&f.sefton, &for_framework(&f.ppa, f.lot, true))
        .await;
    assert_eq!((s, r["status"].as_str()), (201, Some("submitted")), "{r}");
}

on_both!(
    the_right_framework_and_lot_are_accepted,
    the_right_framework_and_lot_are_accepted_on_sqlite,
    the_right_framework_and_lot_are_accepted_on_postgres
);

/// A draft is checked again at submit: the framework has since dropped Sefton (an older
/// publication arriving late changes nothing), so the submission is refused and it stays a
/// draft.
async fn a_draft_is_checked_again_at_submit(url: &str) {
    let f = two_frameworks(url).await;
    let (app, sefton) = (&f.app, &f.sefton);
    let referrals = app.referrals();
    let (s, draft) = referrals
        .create(sefton, &for_framework(&f.ppa, f.lot, false))
        .await;
    assert_eq!(s, 201, "{draft}");
    let mut narrower = f.ppa.clone();
    narrower.purchasing_bodies = vec![HALTON.into()];
    app.publish("competition", &narrower).await;
    app.publish_late("competition", &f.ppa, 60).await;
    let id = draft["id"].as_str().unwrap();
    let (s, r) = referrals.submit(sefton, id).await;
    assert_eq!(
        (s, r["errors"][0]["field"].as_str()),
        (422, Some("/framework_id")),
        "{r}"
    );
    let (_, r) = referrals.get(sefton, id).await;
    assert_eq!(r["status"], "draft");
}

on_both!(
    a_draft_is_checked_again_at_submit,
    a_draft_is_checked_again_at_submit_on_sqlite,
    a_draft_is_checked_again_at_submit_on_postgres
);

/// A referral on a framework the replica has not heard of: accepted (asserted), then
/// returned by the competition service (its version 1, `unknown_framework`).
async fn returned_referral(f: &Frameworks) -> (String, ReferralReturned) {
    let (s, r) = f
        .app
        .referrals()
        .create(&f.sefton, &new_referral("mini_competition", true))
        .await;
    assert_eq!((s, r["status"].as_str()), (201, Some("submitted")), "{r}");
    let id = r["id"].as_str().unwrap().to_owned();
    let returned = ReferralReturned {
        referral_id: id.parse().unwrap(),
        referral_version: 1,
        council: SEFTON.into(),
        reason: ReferralReturnReason::UnknownFramework,
    };
    f.app.publish("competition", &returned).await;
    (id, returned)
}

/// The council sees a returned referral, and why, also in its list by status.
async fn a_returned_referral_says_why(url: &str) {
    let f = two_frameworks(url).await;
    let (id, _) = returned_referral(&f).await;
    let referrals = f.app.referrals();
    let (_, r) = referrals.get(&f.sefton, &id).await;
    assert_eq!(
        (r["status"].as_str(), r["status_reason"].as_str()),
        (Some("returned"), Some("unknown_framework")),
        "{r}"
    );
    let (_, listed) = referrals.list(&f.sefton, "status=returned").await;
    assert_eq!(
        listed["items"].as_array().map(Vec::len),
        Some(1),
        "{listed}"
    );
}

on_both!(
    a_returned_referral_says_why,
    a_returned_referral_says_why_on_sqlite,
    a_returned_referral_says_why_on_postgres
);

/// A returned referral is re-routed to a framework and lot that will take it (not to a lot
/// of another framework): a new version, submitted again; the return of version 1 arriving
/// again changes nothing now.
async fn a_returned_referral_is_rerouted(url: &str) {
    let f = two_frameworks(url).await;
    let (id, returned) = returned_referral(&f).await;
    let (app, sefton) = (&f.app, &f.sefton);
    let route_to = |lot_id: Uuid| {
        json!({"route": "mini_competition", "reason": "the PPA residential lot",
            "framework_id": f.ppa.framework_id, "lot_id": lot_id})
    };
    let referrals = app.referrals();
    let tag = referrals.etag(sefton, &id).await;
    let (s, r) = referrals
        .reroute(sefton, &id, &tag, &route_to(f.other_lot))
        .await;
    assert_eq!(
        (s, r["errors"][0]["field"].as_str()),
        (422, Some("/lot_id")),
        "{r}"
    );
    let (s, r) = referrals.reroute(sefton, &id, &tag, &route_to(f.lot)).await;
    assert_eq!(
        (s, r["status"].as_str(), r["version"].as_i64()),
        (200, Some("submitted"), Some(2)),
        "{r}"
    );
    let resubmitted = app.outbox_of::<ReferralSubmitted>().await;
    let last = resubmitted.last().unwrap();
    assert_eq!(
        (last.framework_id, last.lot_id, last.version),
        (f.ppa.framework_id, f.lot, 2)
    );
    // The return of version 1 arriving again changes nothing now.
    app.publish("competition", &returned).await;
    let (_, r) = app.referrals().get(sefton, &id).await;
    assert_eq!(r["status"], "submitted");
}

on_both!(
    a_returned_referral_is_rerouted,
    a_returned_referral_is_rerouted_on_sqlite,
    a_returned_referral_is_rerouted_on_postgres
);

/// A value stored in a column that its type cannot read (a code no version kind or status
/// has, changed by hand or left by a missing migration) is a 500, never read as some other
/// value (a version of an unknown kind used to be shown as `created`).
async fn unreadable_stored_codes_are_500s(url: &str) {
    let app = start(url).await;
    let sefton = app.user(SEFTON, Role::Commissioner);
    let referrals = app.referrals();
    let (s, r) = referrals
        .create(&sefton, &new_referral("spot_purchase", true))
        .await;
    assert_eq!(s, 201, "{r}");
    let id = r["id"].as_str().unwrap();

    app.sql("UPDATE referral_versions SET kind = 'rewritten'")
        .await;
    let (s, r) = referrals.versions(&sefton, id).await;
    assert_eq!((s, problem_type(&r)), (500, "/problems/internal"), "{r}");

    app.sql("UPDATE referrals SET status = 'open'").await;
    let (s, r) = referrals.get(&sefton, id).await;
    assert_eq!((s, problem_type(&r)), (500, "/problems/internal"), "{r}");
}

on_both!(
    unreadable_stored_codes_are_500s,
    unreadable_stored_codes_are_500s_on_sqlite,
    unreadable_stored_codes_are_500s_on_postgres
);
