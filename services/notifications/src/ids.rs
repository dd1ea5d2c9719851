//! Ids as this service stores them (`TEXT`, hyphenated UUIDs, through the storage edge).
//!
//! Its own: endpoints, deliveries and attempts. Others' (the event that caused a delivery,
//! and the competitions, referrals and lots it tracks) are declared here too, as this
//! service keeps them; events carry them as plain UUIDs.

hub_platform::typed_id! {
    /// A webhook endpoint.
    pub struct EndpointId;
}

hub_platform::typed_id! {
    /// One message to one endpoint; also the `webhook-id` the receiver sees.
    pub struct DeliveryId;
}

hub_platform::typed_id! {
    /// One attempt at a delivery.
    pub struct AttemptId;
}

hub_platform::typed_id! {
    /// The integration event a delivery was made for (the envelope's id).
    pub struct EventId;
}

hub_platform::typed_id! {
    /// A competition (or direct award) of the competition service.
    pub struct CompetitionId;
}

hub_platform::typed_id! {
    /// A referral of the referral service.
    pub struct ReferralId;
}

hub_platform::typed_id! {
    /// A framework lot.
    pub struct LotId;
}
