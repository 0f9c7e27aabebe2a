//! Identifiers of users, applications, dialogs and messages.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A bad identifier, with the offending input (ids are never secret).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdError {
    /// An ObjectId must be exactly 24 hexadecimal characters.
    #[error("`{0}` is not a 24-hex-character ObjectId")]
    ObjectId(String),
    /// A user or application id must be a positive decimal integer.
    #[error("`{0}` is not a positive decimal id")]
    Numeric(String),
}

/// A 12-byte BSON ObjectId: 4 bytes of Unix seconds, 5 random bytes, a 3-byte counter.
///
/// ConnectyCube names dialogs and messages with these; on the wire they are 24 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectId([u8; 12]);

/// Per-process part of generated ids, drawn once, as BSON does.
fn process_unique() -> [u8; 5] {
    static UNIQUE: std::sync::OnceLock<[u8; 5]> = std::sync::OnceLock::new();
    *UNIQUE.get_or_init(|| {
        let mut bytes = [0u8; 5];
        // Without OS randomness, fall back to time and pid: ids stay unique per process run.
        if getrandom::fill(&mut bytes).is_err() {
            let nanos = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0);
            let mixed = u64::from(nanos) << 16 ^ u64::from(std::process::id());
            bytes.copy_from_slice(&mixed.to_be_bytes()[3..]);
        }
        bytes
    })
}

fn next_counter() -> u32 {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    static START: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    let start = *START.get_or_init(|| {
        let mut b = [0u8; 4];
        let _ = getrandom::fill(&mut b);
        u32::from_be_bytes(b)
    });
    start.wrapping_add(COUNTER.fetch_add(1, Ordering::Relaxed)) & 0x00ff_ffff
}

impl ObjectId {
    /// Generates a fresh id, unique within this process and (with high probability) globally.
    ///
    /// ```
    /// use connectycube_protocol::ids::ObjectId;
    ///
    /// let a = ObjectId::generate();
    /// let b = ObjectId::generate();
    /// assert_ne!(a, b);
    /// assert_eq!(a.to_string().len(), 24);
    /// assert_eq!(a.to_string().parse::<ObjectId>(), Ok(a));
    /// ```
    pub fn generate() -> Self {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        Self::from_parts(secs as u32, process_unique(), next_counter())
    }

    /// Builds an id from its three BSON parts; only the low 24 bits of `counter` are kept.
    ///
    /// ```
    /// use connectycube_protocol::ids::ObjectId;
    ///
    /// let id = ObjectId::from_parts(0x5c09_4c0c, [0xe5, 0x88, 0xce, 0x68, 0x56], 0xf8_7422);
    /// assert_eq!(id.to_string(), "5c094c0ce588ce6856f87422");
    /// ```
    pub fn from_parts(seconds: u32, random: [u8; 5], counter: u32) -> Self {
        let mut b = [0u8; 12];
        b[..4].copy_from_slice(&seconds.to_be_bytes());
        b[4..9].copy_from_slice(&random);
        b[9..].copy_from_slice(&counter.to_be_bytes()[1..]);
        Self(b)
    }

    /// The raw 12 bytes.
    pub fn bytes(&self) -> [u8; 12] {
        self.0
    }

    /// The creation time, in Unix seconds, that the id carries.
    ///
    /// ```
    /// use connectycube_protocol::ids::ObjectId;
    ///
    /// let id: ObjectId = "5c094c0ce588ce6856f87422".parse()?;
    /// assert_eq!(id.timestamp(), 1_544_113_164); // 2018-12-06
    /// assert!("not an id".parse::<ObjectId>().is_err());
    /// # Ok::<(), connectycube_protocol::ids::IdError>(())
    /// ```
    pub fn timestamp(&self) -> u32 {
        u32::from_be_bytes([self.0[0], self.0[1], self.0[2], self.0[3]])
    }
}

impl FromStr for ObjectId {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || IdError::ObjectId(s.chars().take(64).collect());
        if s.len() != 24 || !s.is_ascii() {
            return Err(bad());
        }
        let mut b = [0u8; 12];
        for (i, pair) in s.as_bytes().chunks_exact(2).enumerate() {
            let hex = std::str::from_utf8(pair).map_err(|_| bad())?;
            b[i] = u8::from_str_radix(hex, 16).map_err(|_| bad())?;
        }
        Ok(Self(b))
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // By hand rather than twelve `{:02x}` writes: ids are formatted for every stanza built.
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; 24];
        for (pair, b) in out.chunks_exact_mut(2).zip(self.0) {
            pair[0] = HEX[usize::from(b >> 4)];
            pair[1] = HEX[usize::from(b & 0x0f)];
        }
        f.write_str(std::str::from_utf8(&out).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ObjectId({self})")
    }
}

/// Lets ids be attribute and text values of xso-derived stanza types: a bad id is then a typed
/// parse error of the stanza instead of a string to check later.
macro_rules! xml_text {
    ($name:ident) => {
        impl xso::FromXmlText for $name {
            fn from_xml_text(s: String) -> Result<Self, xso::error::Error> {
                s.trim()
                    .parse()
                    .map_err(xso::error::Error::text_parse_error)
            }
        }

        impl xso::AsXmlText for $name {
            fn as_xml_text(&self) -> Result<std::borrow::Cow<'_, str>, xso::error::Error> {
                Ok(std::borrow::Cow::Owned(self.to_string()))
            }
        }
    };
}

macro_rules! object_id_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub ObjectId);

        impl $name {
            /// Generates a fresh id, as a client does before sending.
            pub fn generate() -> Self {
                Self(ObjectId::generate())
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map(Self)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        xml_text!($name);

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

object_id_newtype!(
    /// The id of a chat dialog (24-hex ObjectId).
    DialogId
);
object_id_newtype!(
    /// The id of a chat message (24-hex ObjectId); clients generate it before sending.
    MessageId
);

macro_rules! numeric_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub u64);

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s.parse::<u64>() {
                    Ok(n) if n > 0 && s.bytes().all(|b| b.is_ascii_digit()) => Ok(Self(n)),
                    _ => Err(IdError::Numeric(s.chars().take(64).collect())),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<u64> for $name {
            fn from(n: u64) -> Self {
                Self(n)
            }
        }

        xml_text!($name);
    };
}

numeric_id!(
    /// A ConnectyCube user id.
    UserId
);
numeric_id!(
    /// A ConnectyCube application id.
    AppId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_id_round_trips_through_hex() {
        let id: ObjectId = "5c094c0ce588ce6856f87422".parse().unwrap();
        assert_eq!(id.to_string(), "5c094c0ce588ce6856f87422");
        assert_eq!(id.timestamp(), 0x5c094c0c);
    }

    #[test]
    fn object_id_rejects_bad_input() {
        for bad in [
            "",
            "5c094c0ce588ce6856f8742",
            "5c094c0ce588ce6856f874zz",
            "ééééééééééééé",
        ] {
            assert!(bad.parse::<ObjectId>().is_err(), "{bad}");
        }
    }

    #[test]
    fn generated_ids_are_unique_and_carry_now() {
        let a = MessageId::generate();
        let b = MessageId::generate();
        assert_ne!(a, b);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs() as u32;
        assert!(now - a.0.timestamp() < 5);
        assert_eq!(a.to_string().len(), 24);
    }

    #[test]
    fn numeric_ids_reject_zero_signs_and_text() {
        assert_eq!("4448514".parse::<UserId>(), Ok(UserId(4448514)));
        for bad in ["0", "-1", "+1", "abc", "", "1 "] {
            assert!(bad.parse::<UserId>().is_err(), "{bad}");
        }
    }

    #[test]
    fn ids_serialize_as_the_api_does() {
        let id: DialogId = "5c094c0ce588ce6856f87422".parse().unwrap();
        assert_eq!(
            serde_json::to_string(&id).unwrap(),
            "\"5c094c0ce588ce6856f87422\""
        );
        assert_eq!(serde_json::to_string(&UserId(7)).unwrap(), "7");
    }
}
