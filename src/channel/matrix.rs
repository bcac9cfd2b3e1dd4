//! Matrix: a PUT of an `m.text` event into one room, with a bot's access
//! token; one transaction id per message, so that a retry after a lost
//! answer is no second message.

use serde_json::json;

use super::text::{percent_encode, shape};
use super::{Message, Origin, Payload, Service};
use crate::key::{Key, Reader, Secret};

pub const KEYS: &[Key] = &[
    Key::new(
        "MATRIX_HOMESERVER",
        "",
        "Matrix homeserver URL (with the next two: all three or none)",
    ),
    Key::new("MATRIX_ROOM_ID", "", "Matrix room id (`!abc:example.org`)"),
    Key::new("MATRIX_ACCESS_TOKEN", "", "a Matrix bot's access token").secret(),
];

#[derive(Debug, Clone)]
pub struct Matrix {
    server: String,
    room: String,
    token: Secret,
}

impl Matrix {
    pub fn configure(r: &Reader) -> Option<Matrix> {
        let [server, room, token] = r.together([KEYS[0].name, KEYS[1].name, KEYS[2].name])?;
        r.check(
            KEYS[0].name,
            server.starts_with("http://") || server.starts_with("https://"),
            "expected the homeserver's https:// URL",
        );
        r.check(
            KEYS[1].name,
            room.starts_with('!') && room.contains(':'),
            "expected a room id like !abcdef:example.org (not an alias)",
        );
        Some(Matrix {
            server,
            room,
            token: Secret::new(token),
        })
    }
}

impl Service for Matrix {
    /// The transaction id is added per message (`Payload::path`).
    fn endpoint(&self) -> String {
        format!(
            "{}/_matrix/client/v3/rooms/{}/send/m.room.message/",
            self.server.trim_end_matches('/'),
            percent_encode(&self.room)
        )
    }

    /// An event is at most 64 KiB of JSON.
    fn limit(&self) -> Option<usize> {
        Some(30_000)
    }

    fn payload(&self, msg: &Message, _: Origin) -> Payload {
        let text = shape(msg, false, self.limit());
        let mut p = Payload::json(&json!({"msgtype": "m.text", "body": text}));
        p.headers
            .push(("Authorization", format!("Bearer {}", self.token.expose())));
        p.put = true;
        // The same id for every attempt of this delivery: Matrix keeps one
        // event per transaction.
        p.path = format!(
            "selfheal-{}-{}",
            std::process::id(),
            crate::sys::clock::unix_now_nanos()
        );
        p
    }

    fn secrets(&self) -> Vec<&str> {
        vec![self.token.expose()]
    }
}
