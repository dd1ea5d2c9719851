diesel::table! {
    outbox (id) {
        id -> Text,
        event_type -> Text,
        envelope -> Text,
        created_ms -> BigInt,
        claimed_until_ms -> Nullable<BigInt>,
        claimed_by -> Nullable<Text>,
        published_ms -> Nullable<BigInt>,
        attempts -> Integer,
        last_error -> Nullable<Text>,
    }
}

diesel::table! {
    inbox (event_id, consumer) {
        event_id -> Text,
        consumer -> Text,
        event_type -> Text,
        handled_ms -> BigInt,
    }
}

diesel::table! {
    dead_letters (id) {
        id -> Text,
        event_id -> Text,
        consumer -> Text,
        event_type -> Text,
        envelope -> Text,
        error -> Text,
        attempts -> Integer,
        dead_ms -> BigInt,
    }
}
