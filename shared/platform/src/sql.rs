//! The typed storage edge: how our own types are stored, the same on both backends.
//!
//! Rows hold domain types, never the strings they are stored as. Four shapes cover every
//! column we have:
//!
//! | Rust type | column | written as | read back |
//! |---|---|---|---|
//! | an id made by [`typed_id!`] (`CompetitionId`) | `TEXT` | the hyphenated UUID | [`Uuid`](uuid::Uuid) parsing |
//! | a snake_case enum with [`sql_text!`] (`Status`) | `TEXT` | its `Display` (`strum`, `serialize_all = "snake_case"`) | its `FromStr` |
//! | [`Pence`](crate::Pence) | `BIGINT` | the pence | the pence |
//! | [`Json<T>`] | `TEXT` | `serde_json` | `serde_json` |
//! | [`Code<T>`] (a code enum of another crate, e.g. `hub_events::Urgency`) | `TEXT` | serde's spelling | serde |
//!
//! The impls are written once here, for PostgreSQL, SQLite and the [`MultiBackend`] of
//! [`DbConnection`](crate::DbConnection) (whose impls hand the value to the backend in use).
//! A stored value that cannot be read back (a status no code knows, a broken UUID or JSON)
//! is a deserialization error naming the type and the value: under the error policy
//! ([`crate::db::DbError`]) a 500 logged as an alert, never a silent fallback.
//!
//! A type opts in with diesel's two derives and one line:
//!
//! ```ignore
//! #[derive(Debug, Clone, Copy, strum::Display, strum::EnumString, diesel::AsExpression, diesel::FromSqlRow)]
//! #[strum(serialize_all = "snake_case")]
//! #[diesel(sql_type = diesel::sql_types::Text)]
//! pub enum Status { Open, Closed }
//! hub_platform::sql_text!(Status);
//! ```

pub use crate::db::{MultiBackend, MultiRawValue};

/// Implements `ToSql`/`FromSql` for `Text` on PostgreSQL, SQLite and the multi-backend for
/// types that derive `diesel::AsExpression` and `diesel::FromSqlRow` with
/// `#[diesel(sql_type = diesel::sql_types::Text)]`, through their `Display` and `FromStr`.
///
/// For codes and ids only, never free text: a value that does not parse is quoted in the
/// error, which is logged.
#[macro_export]
macro_rules! sql_text {
    ($($ty:ty),+ $(,)?) => {$(
        impl ::diesel::serialize::ToSql<::diesel::sql_types::Text, ::diesel::pg::Pg> for $ty {
            fn to_sql<'b>(
                &'b self,
                out: &mut ::diesel::serialize::Output<'b, '_, ::diesel::pg::Pg>,
            ) -> ::diesel::serialize::Result {
                use ::std::io::Write as _;
                write!(out, "{}", self)?;
                Ok(::diesel::serialize::IsNull::No)
            }
        }
        impl ::diesel::serialize::ToSql<::diesel::sql_types::Text, ::diesel::sqlite::Sqlite>
            for $ty
        {
            fn to_sql<'b>(
                &'b self,
                out: &mut ::diesel::serialize::Output<'b, '_, ::diesel::sqlite::Sqlite>,
            ) -> ::diesel::serialize::Result {
                out.set_value(self.to_string());
                Ok(::diesel::serialize::IsNull::No)
            }
        }
        impl ::diesel::serialize::ToSql<::diesel::sql_types::Text, $crate::sql::MultiBackend>
            for $ty
        {
            fn to_sql<'b>(
                &'b self,
                out: &mut ::diesel::serialize::Output<'b, '_, $crate::sql::MultiBackend>,
            ) -> ::diesel::serialize::Result {
                out.set_value((::diesel::sql_types::Text, self));
                Ok(::diesel::serialize::IsNull::No)
            }
        }
        impl ::diesel::deserialize::FromSql<::diesel::sql_types::Text, ::diesel::pg::Pg> for $ty {
            fn from_sql(value: ::diesel::pg::PgValue<'_>) -> ::diesel::deserialize::Result<Self> {
                let text = <String as ::diesel::deserialize::FromSql<
                    ::diesel::sql_types::Text,
                    ::diesel::pg::Pg,
                >>::from_sql(value)?;
                $crate::sql::parse_stored::<Self>(&text)
            }
        }
        impl ::diesel::deserialize::FromSql<::diesel::sql_types::Text, ::diesel::sqlite::Sqlite>
            for $ty
        {
            fn from_sql(
                value: ::diesel::sqlite::SqliteValue<'_, '_, '_>,
            ) -> ::diesel::deserialize::Result<Self> {
                let text = <String as ::diesel::deserialize::FromSql<
                    ::diesel::sql_types::Text,
                    ::diesel::sqlite::Sqlite,
                >>::from_sql(value)?;
                $crate::sql::parse_stored::<Self>(&text)
            }
        }
        impl ::diesel::deserialize::FromSql<::diesel::sql_types::Text, $crate::sql::MultiBackend>
            for $ty
        {
            fn from_sql(value: $crate::sql::MultiRawValue<'_>) -> ::diesel::deserialize::Result<Self> {
                value.from_sql::<Self, ::diesel::sql_types::Text>()
            }
        }
    )+};
}

/// A code enum: the variants' snake_case names on the wire (serde), in storage
/// ([`sql_text!`]), in `Display`/`FromStr` (strum) and in the OpenAPI document, from one
/// spelling. The calling crate depends on serde, utoipa, strum and diesel.
///
/// ```ignore
/// hub_platform::code_enum! {
///     /// Where a competition stands.
///     pub enum Status { Draft, Open, Awarded, Closed }
/// }
/// ```
#[macro_export]
macro_rules! code_enum {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($body:tt)* }) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq,
            ::serde::Serialize, ::serde::Deserialize, ::utoipa::ToSchema,
            ::strum::Display, ::strum::EnumString,
            ::diesel::AsExpression, ::diesel::FromSqlRow,
        )]
        #[serde(rename_all = "snake_case")]
        #[strum(serialize_all = "snake_case")]
        #[diesel(sql_type = ::diesel::sql_types::Text)]
        $vis enum $name { $($body)* }
        $crate::sql_text!($name);
    };
}

/// Reads a stored text value into `T`, or says which type could not read which value.
#[doc(hidden)]
pub fn parse_stored<T>(text: &str) -> diesel::deserialize::Result<T>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    text.parse::<T>().map_err(|e| {
        format!(
            "stored value {text:?} is not a valid {}: {e}",
            std::any::type_name::<T>()
        )
        .into()
    })
}

/// An id newtype over a UUID: stored as hyphenated text, serialised as the bare UUID, a
/// route parameter (`web::Path<CompetitionId>` refuses a malformed id before the handler),
/// documented in OpenAPI as a `uuid` string.
///
/// ```ignore
/// hub_platform::typed_id! {
///     /// A call-off competition.
///     pub struct CompetitionId;
/// }
/// ```
#[macro_export]
macro_rules! typed_id {
    ($(#[$meta:meta])* $vis:vis struct $name:ident;) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash,
            ::serde::Serialize, ::serde::Deserialize,
            ::diesel::AsExpression, ::diesel::FromSqlRow,
        )]
        #[serde(transparent)]
        #[diesel(sql_type = ::diesel::sql_types::Text)]
        $vis struct $name(pub ::uuid::Uuid);

        impl $name {
            /// A new id (UUID v7: time-ordered, so new rows index well).
            pub fn new() -> Self {
                Self(::uuid::Uuid::now_v7())
            }
        }

        impl ::std::default::Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::uuid::Error;
            fn from_str(s: &str) -> ::std::result::Result<Self, Self::Err> {
                ::uuid::Uuid::parse_str(s).map(Self)
            }
        }

        impl ::std::convert::From<::uuid::Uuid> for $name {
            fn from(id: ::uuid::Uuid) -> Self {
                Self(id)
            }
        }

        impl ::std::convert::From<$name> for ::uuid::Uuid {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl ::utoipa::PartialSchema for $name {
            fn schema() -> ::utoipa::openapi::RefOr<::utoipa::openapi::schema::Schema> {
                $crate::sql::uuid_schema()
            }
        }

        impl ::utoipa::ToSchema for $name {}

        $crate::sql_text!($name);
    };
}

/// The OpenAPI schema of an id: a string in UUID format.
#[doc(hidden)]
pub fn uuid_schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
        .into()
}

/// A JSON document in a `TEXT` column (lists and maps a row keeps whole: criteria, prices by
/// need level, answers). Read and written through serde, so the column holds exactly what
/// the type serialises to.
#[derive(Debug, Clone, PartialEq, Default, diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub struct Json<T>(pub T);

impl<T> std::ops::Deref for Json<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

mod json_impls {
    use diesel::{
        deserialize::{self, FromSql},
        pg::{Pg, PgValue},
        serialize::{self, IsNull, Output, ToSql},
        sql_types::Text,
        sqlite::{Sqlite, SqliteValue},
    };
    use serde::{Serialize, de::DeserializeOwned};

    use super::{Json, MultiBackend, MultiRawValue};

    fn read<T: DeserializeOwned>(text: &str) -> deserialize::Result<Json<T>> {
        // Not serde's message: it may quote the document (a child's details), and errors are
        // logged. The kind and place are enough to find the row's fault.
        serde_json::from_str(text).map(Json).map_err(|e| {
            format!(
                "stored JSON is not a valid {} ({:?} error at line {}, column {})",
                std::any::type_name::<T>(),
                e.classify(),
                e.line(),
                e.column()
            )
            .into()
        })
    }

    impl<T: Serialize + std::fmt::Debug> ToSql<Text, Pg> for Json<T> {
        fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
            serde_json::to_writer(out, &self.0)?;
            Ok(IsNull::No)
        }
    }

    impl<T: Serialize + std::fmt::Debug> ToSql<Text, Sqlite> for Json<T> {
        fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
            out.set_value(serde_json::to_string(&self.0)?);
            Ok(IsNull::No)
        }
    }

    impl<T: Serialize + std::fmt::Debug + Send + Sync + 'static> ToSql<Text, MultiBackend> for Json<T> {
        fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
            out.set_value((Text, self));
            Ok(IsNull::No)
        }
    }

    impl<T: DeserializeOwned> FromSql<Text, Pg> for Json<T> {
        fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
            read(&<String as FromSql<Text, Pg>>::from_sql(value)?)
        }
    }

    impl<T: DeserializeOwned> FromSql<Text, Sqlite> for Json<T> {
        fn from_sql(value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
            read(&<String as FromSql<Text, Sqlite>>::from_sql(value)?)
        }
    }

    impl<T: DeserializeOwned> FromSql<Text, MultiBackend> for Json<T> {
        fn from_sql(value: MultiRawValue<'_>) -> deserialize::Result<Self> {
            value.from_sql::<Self, Text>()
        }
    }
}

/// A code whose enum lives in a crate that cannot take diesel impls (an event's `Urgency`,
/// a close-reason code of `hub_events`), stored as TEXT in the spelling serde gives it on
/// the wire. The orphan rule keeps [`sql_text!`] off such types; this wrapper is the one
/// place that bridges them.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    diesel::AsExpression,
    diesel::FromSqlRow,
)]
#[serde(transparent)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub struct Code<T>(pub T);

impl<T: serde::Serialize> std::fmt::Display for Code<T> {
    /// The code serde spells; a type that does not serialise to a string is no code.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match serde_json::to_value(&self.0) {
            Ok(serde_json::Value::String(code)) => f.write_str(&code),
            _ => Err(std::fmt::Error),
        }
    }
}

impl<T: serde::de::DeserializeOwned> std::str::FromStr for Code<T> {
    type Err = serde_json::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        serde_json::from_value(serde_json::Value::String(s.to_owned())).map(Code)
    }
}

mod code_impls {
    use diesel::{
        deserialize::{self, FromSql},
        pg::{Pg, PgValue},
        serialize::{self, IsNull, Output, ToSql},
        sql_types::Text,
        sqlite::{Sqlite, SqliteValue},
    };
    use serde::{Serialize, de::DeserializeOwned};

    use super::{Code, MultiBackend, MultiRawValue, parse_stored};

    impl<T: Serialize + std::fmt::Debug> ToSql<Text, Pg> for Code<T> {
        fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
            use std::io::Write as _;
            write!(out, "{self}")?;
            Ok(IsNull::No)
        }
    }

    impl<T: Serialize + std::fmt::Debug> ToSql<Text, Sqlite> for Code<T> {
        fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
            out.set_value(self.to_string());
            Ok(IsNull::No)
        }
    }

    impl<T: Serialize + std::fmt::Debug + Send + Sync + 'static> ToSql<Text, MultiBackend> for Code<T> {
        fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
            out.set_value((Text, self));
            Ok(IsNull::No)
        }
    }

    impl<T: DeserializeOwned> FromSql<Text, Pg> for Code<T> {
        fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
            parse_stored(&<String as FromSql<Text, Pg>>::from_sql(value)?)
        }
    }

    impl<T: DeserializeOwned> FromSql<Text, Sqlite> for Code<T> {
        fn from_sql(value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
            parse_stored(&<String as FromSql<Text, Sqlite>>::from_sql(value)?)
        }
    }

    impl<T: DeserializeOwned> FromSql<Text, MultiBackend> for Code<T> {
        fn from_sql(value: MultiRawValue<'_>) -> deserialize::Result<Self> {
            value.from_sql::<Self, Text>()
        }
    }
}

mod pence_impls {
    use diesel::{
        deserialize::{self, FromSql},
        pg::{Pg, PgValue},
        serialize::{self, Output, ToSql},
        sql_types::BigInt,
        sqlite::{Sqlite, SqliteValue},
    };

    use super::{MultiBackend, MultiRawValue};
    use crate::Pence;

    impl ToSql<BigInt, Pg> for Pence {
        fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
            <i64 as ToSql<BigInt, Pg>>::to_sql(&self.0, out)
        }
    }

    impl ToSql<BigInt, Sqlite> for Pence {
        fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
            <i64 as ToSql<BigInt, Sqlite>>::to_sql(&self.0, out)
        }
    }

    impl ToSql<BigInt, MultiBackend> for Pence {
        fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
            out.set_value((BigInt, self));
            Ok(serialize::IsNull::No)
        }
    }

    impl FromSql<BigInt, Pg> for Pence {
        fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
            <i64 as FromSql<BigInt, Pg>>::from_sql(value).map(Pence)
        }
    }

    impl FromSql<BigInt, Sqlite> for Pence {
        fn from_sql(value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
            <i64 as FromSql<BigInt, Sqlite>>::from_sql(value).map(Pence)
        }
    }

    impl FromSql<BigInt, MultiBackend> for Pence {
        fn from_sql(value: MultiRawValue<'_>) -> deserialize::Result<Self> {
            value.from_sql::<Self, BigInt>()
        }
    }
}
