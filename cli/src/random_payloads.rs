//! Every formatter over random payloads (any bytes in names and metadata,
//! any state and rc): no panic, and the JSON gives back the exact bytes.

use crate::testdata::*;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;

use crate::test_rng::Rng;

impl Rng {
    fn bytes(&mut self, len: usize, nul: bool) -> Vec<u8> {
        (0..len)
            .map(|_| match self.below(8) {
                0 if nul => 0,
                1 => b"\\\"\n;=\t"[self.below(6)],
                2 => 0x80 + self.below(0x80) as u8,
                _ => 0x20 + self.below(0x5f) as u8,
            })
            .map(|b| if b == 0 && !nul { b'x' } else { b })
            .collect()
    }
}

#[test]
fn random_payloads_in_every_format_round_trip_through_json() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for round in 0..200 {
        let n = rng.below(6);
        let ps: Vec<_> = (0..n)
            .map(|_| {
                let name_len = 1 + rng.below(127);
                let meta_len = rng.below(64);
                let state = [1, 2, 0, 7, u32::MAX][rng.below(5)];
                let rc = [0, -11, -16, 5, i32::MIN, i32::MAX][rng.below(6)];
                payload(rng.bytes(name_len, false), state, rc, &rng.bytes(meta_len, true))
            })
            .collect();
        let s = snapshot(ps.clone());
        let _ = crate::table::render(&s);
        let _ = crate::dump::render(&s);
        let prom = crate::prometheus::render(&Ok(s.clone()), &["K".to_string()], &Default::default());
        assert!(std::str::from_utf8(&prom).is_ok(), "round {round}: exposition not UTF-8");
        let doc: serde_json::Value =
            serde_json::from_slice(&crate::json::render(&s, "simulator", &Default::default())).unwrap();
        for (p, j) in ps.iter().zip(doc["payloads"].as_array().unwrap()) {
            let name = match j.get("name_base64") {
                Some(b) => BASE64.decode(b.as_str().unwrap()).unwrap(),
                None => j["name"].as_str().unwrap().as_bytes().to_vec(),
            };
            assert_eq!(name, p.name, "round {round}");
            assert_eq!(BASE64.decode(j["metadata_base64"].as_str().unwrap()).unwrap(), p.metadata, "round {round}");
            assert_eq!(j["state_code"], p.state);
            assert_eq!(j["rc"], p.rc);
        }
    }
}
