//! Withdrawal, before and after a competition opened; a direct award; and every placement
//! placing its referral, whatever its route.

mod common;

use common::{
    awarded, closed, document, new_referral, opened, placed_in_block_bed, problem_type, start,
    status,
};
use hub_events::ReferralWithdrawn;
use hub_platform::{Role, directory::SEFTON};
use hub_testkit::{TestApp, User, on_both};
use serde_json::{Value, json};
use uuid::Uuid;

/// Sefton's social worker's submitted mini-competition referral, in a competition that
/// invited prov-a: the app, the social worker and the referral's id.
async fn in_competition(url: &str) -> (TestApp, User, String) {
    let app = start(url).await;
    let sefton = app.user(SEFTON, Role::SocialWorker);
    let (_, r) = app
        .referrals()
        .create(&sefton, &new_referral("mini_competition", true))
        .await;
    let id = r["id"].as_str().unwrap().to_owned();
    app.publish("competition", &opened(&id, Uuid::now_v7(), 1, &["prov-a"]))
        .await;
    (app, sefton, id)
}

/// [`in_competition`], withdrawn because the child went home (the withdrawal's answer too).
async fn withdrawn_in_competition(url: &str) -> (TestApp, User, String, (u16, Value)) {
    let (app, sefton, id) = in_competition(url).await;
    let reply = app
        .referrals()
        .withdraw(
            &sefton,
            &id,
            &json!({"reason": "returned_home", "detail": "Jordan went home to his grandmother"}),
        )
        .await;
    (app, sefton, id, reply)
}

/// A withdrawal says why: `other` needs the detail, and the reason is one of the codes.
async fn a_withdrawal_needs_a_known_reason(url: &str) {
    let (app, sefton, id) = in_competition(url).await;
    let referrals = app.referrals();
    let (s, r) = referrals
        .withdraw(&sefton, &id, &json!({"reason": "other"}))
        .await;
    assert_eq!(
        (
            s,
            r["errors"][0]["field"].as_str(),
            r["errors"][0]["rule"].as_str()
        ),
        (422, Some("/detail"), Some("required"))
    );
    let (s, r) = referrals
        .withdraw(&sefton, &id, &json!({"reason": "gone"}))
        .await;
    assert_eq!((s, r["errors"][0]["rule"].as_str()), (422, Some("one_of")));
}

on_both!(
    a_withdrawal_needs_a_known_reason,
    a_withdrawal_needs_a_known_reason_on_sqlite,
    a_withdrawal_needs_a_known_reason_on_postgres
);

/// Withdrawn while in competition: the council sees the reason and its words; the event
/// carries the code, not the words.
async fn a_withdrawal_is_announced_without_the_councils_words(url: &str) {
    let (app, _, _, (s, r)) = withdrawn_in_competition(url).await;
    assert_eq!((s, r["status"].as_str()), (200, Some("withdrawn")), "{r}");
    assert_eq!(
        r["status_reason"],
        "returned_home: Jordan went home to his grandmother"
    );
    let events = app.outbox().await;
    let last = events.last().unwrap();
    let w: ReferralWithdrawn = last.decode().unwrap();
    assert_eq!(
        (w.reason.as_str(), w.council.as_str()),
        ("returned_home", SEFTON)
    );
    assert!(
        !last.payload.to_string().contains("grandmother"),
        "the council's words stay here"
    );
}

on_both!(
    a_withdrawal_is_announced_without_the_councils_words,
    a_withdrawal_is_announced_without_the_councils_words_on_sqlite,
    a_withdrawal_is_announced_without_the_councils_words_on_postgres
);

/// A withdrawn referral is not withdrawn again, changed or re-routed; an award that crosses
/// the withdrawal does not bring it back; the invited provider still reads what it was
/// invited on, and sees it withdrawn.
async fn a_withdrawn_referral_stays_withdrawn(url: &str) {
    let (app, sefton, id, _) = withdrawn_in_competition(url).await;
    let referrals = app.referrals();
    let (s, r) = referrals
        .withdraw(&sefton, &id, &json!({"reason": "duplicate"}))
        .await;
    assert_eq!((s, problem_type(&r)), (409, "/problems/referral-withdrawn"));
    let tag = referrals.etag(&sefton, &id).await;
    let (s, r) = referrals.update(&sefton, &id, &tag, &document()).await;
    assert_eq!((s, problem_type(&r)), (409, "/problems/referral-withdrawn"));
    let (s, r) = referrals
        .reroute(
            &sefton,
            &id,
            &tag,
            &json!({"route": "spot_purchase", "reason": "x"}),
        )
        .await;
    assert_eq!((s, problem_type(&r)), (409, "/problems/referral-withdrawn"));
    app.publish(
        "competition",
        &awarded(&id, Uuid::now_v7(), "prov-a", false),
    )
    .await;
    let (_, r) = referrals.get(&sefton, &id).await;
    assert_eq!(r["status"], "withdrawn");
    let (s, r) = referrals
        .get(&app.user("prov-a", Role::Provider), &id)
        .await;
    assert_eq!(
        (s, r["status"].as_str(), r["view"].as_str()),
        (200, Some("withdrawn"), Some("redacted"))
    );
}

on_both!(
    a_withdrawn_referral_stays_withdrawn,
    a_withdrawn_referral_stays_withdrawn_on_sqlite,
    a_withdrawn_referral_stays_withdrawn_on_postgres
);

/// A draft withdrawn is not announced: nobody else knew of it.
async fn a_withdrawn_draft_is_not_announced(url: &str) {
    let (app, sefton, _, _) = withdrawn_in_competition(url).await;
    let referrals = app.referrals();
    let before = app.outbox().await.len();
    let (_, r) = referrals
        .create(&sefton, &new_referral("mini_competition", false))
        .await;
    let draft = r["id"].as_str().unwrap().to_owned();
    let (s, _) = referrals
        .withdraw(&sefton, &draft, &json!({"reason": "duplicate"}))
        .await;
    assert_eq!(s, 200);
    assert_eq!(app.outbox().await.len(), before);
}

on_both!(
    a_withdrawn_draft_is_not_announced,
    a_withdrawn_draft_is_not_announced_on_sqlite,
    a_withdrawn_draft_is_not_announced_on_postgres
);

/// A direct award in an emergency (submitted → awarded without a competition) to prov-d:
/// the app, Sefton's social worker, prov-d and the referral's id. prov-d reads nothing of it
/// before the award.
async fn directly_awarded(url: &str) -> (TestApp, User, User, String) {
    let app = start(url).await;
    let sefton = app.user(SEFTON, Role::SocialWorker);
    let (_, r) = app
        .referrals()
        .create(&sefton, &new_referral("direct_award", true))
        .await;
    let direct = r["id"].as_str().unwrap().to_owned();
    let prov_d = app.user("prov-d", Role::Provider);
    assert_eq!(
        app.referrals().get(&prov_d, &direct).await.0,
        404,
        "not before the award"
    );
    app.publish(
        "competition",
        &awarded(&direct, Uuid::now_v7(), "prov-d", true),
    )
    .await;
    (app, sefton, prov_d, direct)
}

/// The directly awarded provider reads the referral in full; the history says so; the
/// route is not changed here once awarded.
async fn a_direct_award_is_read_in_full(url: &str) {
    let (app, sefton, prov_d, direct) = directly_awarded(url).await;
    let referrals = app.referrals();
    let (_, r) = referrals.get(&sefton, &direct).await;
    assert_eq!(r["status"], "awarded");
    let (s, r) = referrals.get(&prov_d, &direct).await;
    assert_eq!((s, r["view"].as_str()), (200, Some("full")));
    let (s, list) = referrals.versions(&prov_d, &direct).await;
    assert_eq!((s, list["items"].as_array().map(Vec::len)), (200, Some(1)));
    let (_, h) = referrals.history(&sefton, &direct).await;
    assert!(
        h["items"][2]["detail"]
            .as_str()
            .unwrap()
            .starts_with("direct award to prov-d"),
        "{h}"
    );
    let tag = referrals.etag(&sefton, &direct).await;
    let (s, r) = referrals
        .reroute(
            &sefton,
            &direct,
            &tag,
            &json!({"route": "mini_competition", "reason": "review"}),
        )
        .await;
    assert_eq!((s, problem_type(&r)), (409, "/problems/referral-awarded"));
}

on_both!(
    a_direct_award_is_read_in_full,
    a_direct_award_is_read_in_full_on_sqlite,
    a_direct_award_is_read_in_full_on_postgres
);

/// The direct award is reviewed and the requirement opened to competition under the same
/// competition id (the one the history names): in competition, and the newly invited
/// provider reads it redacted.
async fn a_reviewed_direct_award_opens_to_competition(url: &str) {
    let (app, sefton, _, direct) = directly_awarded(url).await;
    let referrals = app.referrals();
    let (_, h) = referrals.history(&sefton, &direct).await;
    let d1: Uuid = h["items"][2]["detail"]
        .as_str()
        .unwrap()
        .rsplit('(')
        .next()
        .unwrap()
        .trim_end_matches(')')
        .parse()
        .unwrap();
    app.publish("competition", &opened(&direct, d1, 1, &["prov-e"]))
        .await;
    let (_, r) = referrals.get(&sefton, &direct).await;
    assert_eq!(r["status"], "in_competition");
    let (s, r) = referrals
        .get(&app.user("prov-e", Role::Provider), &direct)
        .await;
    assert_eq!((s, r["view"].as_str()), (200, Some("redacted")));
}

on_both!(
    a_reviewed_direct_award_opens_to_competition,
    a_reviewed_direct_award_opens_to_competition_on_sqlite,
    a_reviewed_direct_award_opens_to_competition_on_postgres
);

/// A child placed in a block bed on the direct-award, other-purchasing-system or
/// spot-purchase route (never awarded) is `placed`, and the history says so.
async fn a_block_bed_placement_places_a_referral_never_awarded(url: &str) {
    let app = start(url).await;
    let sefton = app.user(SEFTON, Role::Commissioner);
    for route in ["direct_award", "other_purchasing_system", "spot_purchase"] {
        let id = submitted(&app, &sefton, route).await;
        app.publish("contract", &placed_in_block_bed(&id)).await;
        assert_eq!(status(&app, &sefton, &id).await, "placed", "route {route}");
        let (_, h) = app.referrals().history(&sefton, &id).await;
        assert!(h.to_string().contains("\"placed\""), "{h}");
    }
}

on_both!(
    a_block_bed_placement_places_a_referral_never_awarded,
    a_block_bed_placement_places_a_referral_never_awarded_on_sqlite,
    a_block_bed_placement_places_a_referral_never_awarded_on_postgres
);

/// In a competition when the child is placed in a block bed: placed, and the close of that
/// competition arriving afterwards does not put it back to `submitted`.
async fn a_placement_during_a_competition_outlasts_its_close(url: &str) {
    let app = start(url).await;
    let sefton = app.user(SEFTON, Role::Commissioner);
    let id = submitted(&app, &sefton, "mini_competition").await;
    let competition = Uuid::now_v7();
    app.publish("competition", &opened(&id, competition, 1, &["prov-a"]))
        .await;
    assert_eq!(status(&app, &sefton, &id).await, "in_competition");
    app.publish("contract", &placed_in_block_bed(&id)).await;
    assert_eq!(status(&app, &sefton, &id).await, "placed");
    app.publish("competition", &closed(&id, competition)).await;
    assert_eq!(status(&app, &sefton, &id).await, "placed");
}

on_both!(
    a_placement_during_a_competition_outlasts_its_close,
    a_placement_during_a_competition_outlasts_its_close_on_sqlite,
    a_placement_during_a_competition_outlasts_its_close_on_postgres
);

/// A withdrawn referral is not placed by a stray event.
async fn a_withdrawn_referral_is_not_placed(url: &str) {
    let app = start(url).await;
    let sefton = app.user(SEFTON, Role::Commissioner);
    let id = submitted(&app, &sefton, "spot_purchase").await;
    let (s, _) = app
        .referrals()
        .withdraw(&sefton, &id, &json!({"reason": "plan_changed"}))
        .await;
    assert_eq!(s, 200);
    app.publish("contract", &placed_in_block_bed(&id)).await;
    assert_eq!(status(&app, &sefton, &id).await, "withdrawn");
}

on_both!(
    a_withdrawn_referral_is_not_placed,
    a_withdrawn_referral_is_not_placed_on_sqlite,
    a_withdrawn_referral_is_not_placed_on_postgres
);

/// `user` submits a new referral on `route` at once; its id (created `submitted`, asserted).
async fn submitted(app: &TestApp, user: &User, route: &str) -> String {
    let (s, r) = app
        .referrals()
        .create(user, &new_referral(route, true))
        .await;
    assert_eq!((s, r["status"].as_str()), (201, Some("submitted")), "{r}");
    r["id"].as_str().unwrap().to_owned()
}
