use super::*;

const HEADER: &str = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' from='localhost' id='abc' version='1.0'>";

fn frames(parser: &mut StreamParser, input: &[u8]) -> Result<Vec<Frame>, StreamError> {
    let mut out = Vec::new();
    let mut data = input;
    while let Some(frame) = parser.next_frame(&mut data)? {
        out.push(frame);
    }
    assert!(data.is_empty(), "parser left {} bytes", data.len());
    Ok(out)
}

#[test]
fn header_stanzas_and_end_byte_by_byte() {
    let doc = format!(
        "{HEADER}<message to='a@b' id='1'><body>hi &amp; bye</body></message> \n<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features></stream:stream>"
    );
    let mut parser = StreamParser::new(1024);
    let mut all = Vec::new();
    // One byte at a time: the parser must cope with any split of the TCP stream.
    for b in doc.as_bytes() {
        all.extend(frames(&mut parser, std::slice::from_ref(b)).unwrap());
    }
    assert_eq!(all.len(), 4, "{all:?}");
    let Frame::Header(h) = &all[0] else {
        panic!("{all:?}")
    };
    assert_eq!(h.attr("id"), Some("abc"));
    let Frame::Stanza(m) = &all[1] else {
        panic!("{all:?}")
    };
    assert!(m.is("message", "jabber:client"));
    assert_eq!(
        m.get_child("body", "jabber:client").unwrap().text(),
        "hi & bye"
    );
    let Frame::Stanza(f) = &all[2] else {
        panic!("{all:?}")
    };
    assert!(f.is("features", STREAM_NS));
    assert_eq!(all[3], Frame::End);
}

#[test]
fn oversized_stanza_is_refused_without_buffering_it_all() {
    let mut parser = StreamParser::new(1000);
    assert_eq!(frames(&mut parser, HEADER.as_bytes()).unwrap().len(), 1);
    // A small stanza passes.
    let small = format!("<message><body>{}</body></message>", "x".repeat(900));
    assert_eq!(frames(&mut parser, small.as_bytes()).unwrap().len(), 1);
    // A big one fails as soon as the limit is crossed, before it is complete.
    let mut err = None;
    for _ in 0..100 {
        let chunk = format!("<message><body>{}", "y".repeat(100));
        if let Err(e) = frames(&mut parser, chunk.as_bytes()) {
            err = Some(e);
            break;
        }
    }
    assert!(
        matches!(err, Some(StreamError::StanzaTooLarge { limit: 1000 })),
        "{err:?}"
    );
}

#[test]
fn whitespace_keepalives_do_not_count_or_accumulate() {
    let mut parser = StreamParser::new(400);
    frames(&mut parser, HEADER.as_bytes()).unwrap();
    for _ in 0..1000 {
        assert!(frames(&mut parser, b" ").unwrap().is_empty());
    }
    let got = frames(&mut parser, b"<r xmlns='urn:xmpp:sm:3' />").unwrap();
    assert_eq!(got.len(), 1);
}

#[test]
fn dtd_is_refused() {
    let doc = "<?xml version='1.0'?><!DOCTYPE lol [<!ENTITY lol 'lol'><!ENTITY lol2 '&lol;&lol;&lol;'>]><stream:stream xmlns:stream='http://etherx.jabber.org/streams'>";
    let err = frames(&mut StreamParser::new(1 << 20), doc.as_bytes()).unwrap_err();
    assert!(matches!(err, StreamError::Xml { .. }), "{err:?}");
}

#[test]
fn undeclared_entity_is_refused() {
    let doc = format!("{HEADER}<message><body>&lol;</body></message>");
    let err = frames(&mut StreamParser::new(1 << 20), doc.as_bytes()).unwrap_err();
    assert!(matches!(err, StreamError::Xml { .. }), "{err:?}");
    // The parser's own error stays reachable, not flattened into the text.
    let source = std::error::Error::source(&err).expect("the parser's error is the source");
    assert!(
        format!("{source:?}").contains("UndeclaredEntity"),
        "{source:?}"
    );
}

#[test]
fn malformed_xml_is_an_xml_error() {
    for bad in [
        "<message></iq>",
        "<message a='1' a='2'/>",
        "<a:b/>",
        "<message>\u{0}</message>",
    ] {
        let doc = format!("{HEADER}{bad}");
        let err = frames(&mut StreamParser::new(1 << 20), doc.as_bytes()).unwrap_err();
        assert!(matches!(err, StreamError::Xml { .. }), "{bad}: {err:?}");
    }
}

#[test]
fn stream_error_conditions() {
    let el: Element = "<stream:error xmlns:stream='http://etherx.jabber.org/streams'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>Replaced</text></stream:error>".parse().unwrap();
    assert!(
        matches!(stream_error(&el), Some(StreamError::Server { condition }) if condition == StreamCondition::Conflict)
    );
    let msg: Element = "<message xmlns='jabber:client'/>".parse().unwrap();
    assert!(stream_error(&msg).is_none());
}

#[test]
fn writer_declares_namespaces_once_and_round_trips() {
    let mut w = StreamWriter::new();
    let mut out = BytesMut::new();
    w.header("localhost", &mut out).unwrap();
    let msg: Element = "<message xmlns='jabber:client' to='a@localhost' id='x'><body>1 &lt; 2</body><markable xmlns='urn:xmpp:chat-markers:0'/></message>".parse().unwrap();
    w.element(&msg, &mut out).unwrap();
    let text = String::from_utf8(out.to_vec()).unwrap();
    assert!(text.starts_with("<?xml"), "{text}");
    assert!(
        text.contains("xmlns:stream='http://etherx.jabber.org/streams'")
            || text.contains("xmlns:stream=\"http://etherx.jabber.org/streams\""),
        "{text}"
    );
    assert_eq!(text.matches("jabber:client").count(), 1, "{text}");
    // Read it back with our own parser.
    let mut p = StreamParser::new(1 << 20);
    let got = frames(&mut p, text.as_bytes()).unwrap();
    assert_eq!(got.len(), 2);
    let Frame::Stanza(back) = &got[1] else {
        panic!("{got:?}")
    };
    assert!(back.is("message", "jabber:client"));
    assert_eq!(back.attr("to"), Some("a@localhost"));
    assert_eq!(
        back.get_child("body", "jabber:client").unwrap().text(),
        "1 < 2"
    );
    assert!(back.has_child("markable", "urn:xmpp:chat-markers:0"));
}

#[test]
fn standalone_elements() {
    let el = parse_element(
        b"<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='localhost' version='1.0'/>",
        100,
    )
    .unwrap();
    assert!(el.is("open", "urn:ietf:params:xml:ns:xmpp-framing"));
    assert!(matches!(
        parse_element(&[b' '; 101], 100),
        Err(StreamError::StanzaTooLarge { limit: 100 })
    ));
    assert!(matches!(
        parse_element(b"<a xmlns='x'>", 100),
        Err(StreamError::Xml { .. })
    ));
    let bytes = element_to_bytes(&el).unwrap();
    assert_eq!(parse_element(&bytes, 1000).unwrap(), el);
}

fn all_frames_in_chunks(doc: &[u8], cuts: &[usize]) -> Vec<Frame> {
    let mut parser = StreamParser::new(1 << 20);
    let mut out = Vec::new();
    let mut pending: Vec<u8> = Vec::new();
    let mut start = 0;
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (doc.len() + 1)).collect();
    cuts.push(doc.len());
    cuts.sort_unstable();
    for cut in cuts {
        pending.extend_from_slice(&doc[start..cut.max(start)]);
        start = cut.max(start);
        let mut data = &pending[..];
        while let Some(frame) = parser.next_frame(&mut data).unwrap() {
            out.push(frame);
        }
        let used = pending.len() - data.len();
        pending.drain(..used);
    }
    out
}

proptest::proptest! {
    /// However TCP splits the stream, the same frames come out.
    #[test]
    fn any_chunking_gives_the_same_frames(cuts in proptest::collection::vec(0usize..2000, 0..40)) {
        let doc = format!(
            "{HEADER}<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features> \
             <message from='1002-1@localhost/r' id='5f0e' type='chat'><body>caf\u{e9} &lt;&amp;&gt; \u{1f600}</body><extraParams xmlns='jabber:client'><save_to_history>1</save_to_history><attachment type='image' url='https://x/y?a=1&amp;b=2'/></extraParams><markable xmlns='urn:xmpp:chat-markers:0'/></message>\n\
             <r xmlns='urn:xmpp:sm:3'/><![CDATA[ignored]]><iq type='result' id='1'/></stream:stream>"
        );
        let whole = all_frames_in_chunks(doc.as_bytes(), &[]);
        proptest::prop_assert_eq!(whole.len(), 6);
        let chunked = all_frames_in_chunks(doc.as_bytes(), &cuts);
        proptest::prop_assert_eq!(chunked, whole);
    }
}

/// Every wire example in `fixtures/xmpp/`, sent inside a stream, comes out as one stanza, and
/// what our writer makes of it reads back the same.
#[test]
fn every_xmpp_fixture_parses_in_a_stream_and_round_trips() {
    let fixtures = connectycube_fixtures::xmpp_all();
    assert!(!fixtures.is_empty());
    for fixture in fixtures {
        let doc = format!("{HEADER}{}", fixture.xml);
        let mut parser = StreamParser::new(1 << 20);
        let got =
            frames(&mut parser, doc.as_bytes()).unwrap_or_else(|e| panic!("{}: {e}", fixture.name));
        assert_eq!(got.len(), 2, "{}: {got:?}", fixture.name);
        let Frame::Stanza(el) = &got[1] else {
            panic!("{}: {got:?}", fixture.name)
        };

        let mut out = BytesMut::new();
        let mut writer = StreamWriter::new();
        writer.header("localhost", &mut out).unwrap();
        writer.element(el, &mut out).unwrap();
        let back = frames(&mut StreamParser::new(1 << 20), &out).unwrap();
        assert_eq!(
            back.get(1),
            Some(&Frame::Stanza(el.clone())),
            "{}",
            fixture.name
        );
    }
}

#[test]
fn long_attributes_pass_up_to_the_stanza_limit() {
    // An attachment with an inline thumbnail: one 100 KiB attribute value.
    let stanza = format!(
        "<message><extraParams xmlns='jabber:client'><attachment type='image' data='{}'/></extraParams></message>",
        "A".repeat(100 * 1024)
    );
    let doc = format!("{HEADER}{stanza}");
    let got = frames(&mut StreamParser::new(1 << 20), doc.as_bytes()).unwrap();
    assert_eq!(got.len(), 2);
    let el = parse_element(
        stanza
            .replace("<message>", "<message xmlns='jabber:client'>")
            .as_bytes(),
        1 << 20,
    )
    .unwrap();
    assert!(el.is("message", "jabber:client"));
    // Over the limit it is the size error, not a syntax error.
    let err = frames(&mut StreamParser::new(64 * 1024), doc.as_bytes()).unwrap_err();
    assert!(matches!(err, StreamError::StanzaTooLarge { .. }), "{err:?}");
}

/// `<a>` opened `depth` times, then closed, as one stanza.
fn nested(depth: usize) -> String {
    format!("{}{}", "<a>".repeat(depth), "</a>".repeat(depth))
}

#[test]
fn deep_nesting_is_a_typed_error_not_a_stack_overflow() {
    // 100,000 levels in 700 KB, under the size limit: before the depth limit this overflowed
    // the stack inside xso's recursive builder and aborted the process.
    let doc = format!("{HEADER}{}", nested(100_000));
    let mut parser = StreamParser::new(1 << 20);
    let err = frames(&mut parser, doc.as_bytes()).unwrap_err();
    assert!(
        matches!(err, StreamError::NestingTooDeep { limit: 128 }),
        "{err:?}"
    );
    // The parser stays failed: nothing more comes out of a broken stream.
    let err = parser.next_frame(&mut &b"<r xmlns='urn:xmpp:sm:3'/>"[..]);
    assert!(matches!(err, Err(StreamError::Xml { .. })), "{err:?}");

    let err = parse_element(nested(100_000).as_bytes(), 1 << 20).unwrap_err();
    assert!(
        matches!(err, StreamError::NestingTooDeep { limit: 128 }),
        "{err:?}"
    );
}

#[test]
fn a_flood_of_unclosed_tags_in_small_reads_ends_in_the_depth_error() {
    let mut parser = StreamParser::new(1 << 20);
    frames(&mut parser, HEADER.as_bytes()).unwrap();
    let chunk = "<x:m xmlns:x='urn:flood'>".repeat(20);
    let mut result = Ok(Vec::new());
    for _ in 0..10_000 {
        result = frames(&mut parser, chunk.as_bytes());
        if result.is_err() {
            break;
        }
    }
    assert!(
        matches!(result, Err(StreamError::NestingTooDeep { limit: 128 })),
        "{result:?}"
    );
}

#[test]
fn the_depth_limit_is_configurable_and_capped() {
    let limits = StreamLimits {
        max_stanza_size: 1 << 20,
        max_depth: 4,
    };
    let doc = format!("{HEADER}{}", nested(4));
    assert_eq!(
        frames(&mut StreamParser::with_limits(limits), doc.as_bytes())
            .unwrap()
            .len(),
        2
    );
    let doc = format!("{HEADER}{}", nested(5));
    let err = frames(&mut StreamParser::with_limits(limits), doc.as_bytes()).unwrap_err();
    assert!(
        matches!(err, StreamError::NestingTooDeep { limit: 4 }),
        "{err:?}"
    );
    assert!(parse_element_with_limits(nested(4).as_bytes(), limits).is_ok());

    // No configuration lifts the limit past the ceiling.
    let unlimited = StreamLimits {
        max_stanza_size: 1 << 20,
        max_depth: usize::MAX,
    };
    let doc = format!("{HEADER}{}", nested(100_000));
    let err = frames(&mut StreamParser::with_limits(unlimited), doc.as_bytes()).unwrap_err();
    assert!(
        matches!(err, StreamError::NestingTooDeep { limit }
            if limit == crate::config::MAX_STANZA_DEPTH_CEILING),
        "{err:?}"
    );
}

#[test]
fn random_bytes_and_invalid_utf8_are_xml_errors() {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut random = || {
        // xorshift: deterministic noise without a dependency.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state as u8
    };
    for round in 0..200 {
        let noise: Vec<u8> = (0..4096).map(|_| random()).collect();
        let mut doc = HEADER.as_bytes().to_vec();
        doc.extend_from_slice(b"<message><body>");
        doc.extend_from_slice(&noise);
        let mut parser = StreamParser::new(1 << 20);
        let mut data = &doc[..];
        let result = loop {
            match parser.next_frame(&mut data) {
                Ok(Some(_)) => continue,
                other => break other,
            }
        };
        // 4 KiB of noise never closes the body, so it is either an error or still waiting.
        assert!(
            matches!(result, Err(StreamError::Xml { .. }) | Ok(None)),
            "round {round}: {result:?}"
        );
        let _ = parse_element(&noise, 1 << 20);
    }
    for bad in [
        &b"\xff\xfe"[..],
        b"\xc3\x28",
        b"\xed\xa0\x80",
        b"\xf8\x88\x80\x80\x80",
    ] {
        let mut doc = format!("{HEADER}<message><body>").into_bytes();
        doc.extend_from_slice(bad);
        doc.extend_from_slice(b"</body></message>");
        let err = frames(&mut StreamParser::new(1 << 20), &doc).unwrap_err();
        assert!(matches!(err, StreamError::Xml { .. }), "{bad:?}: {err:?}");
        let mut el = b"<message xmlns='jabber:client'><body>".to_vec();
        el.extend_from_slice(bad);
        el.extend_from_slice(b"</body></message>");
        assert!(matches!(
            parse_element(&el, 1 << 20),
            Err(StreamError::Xml { .. })
        ));
    }
}

/// A tree as deep as any configuration allows must still be parsed, classified, serialized,
/// logged and dropped (all recursive in minidom, xso and our protocol crate) on a tokio worker's
/// 2 MiB stack, even unoptimised (a debug build overflowed serializing about 600 levels).
#[test]
fn a_tree_at_the_depth_ceiling_fits_a_worker_stack() {
    let depth = crate::config::MAX_STANZA_DEPTH_CEILING;
    let worker = std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(move || {
            let stanza = format!(
                "<message from='1002-1@localhost/r' id='5c094687e588ce59fff87425' type='chat'><body>hi</body>{}</message>",
                nested(depth - 1)
            );
            let doc = format!("{HEADER}{stanza}");
            let limits = StreamLimits {
                max_stanza_size: 1 << 20,
                max_depth: depth,
            };
            let got = frames(&mut StreamParser::with_limits(limits), doc.as_bytes()).unwrap();
            let Frame::Stanza(el) = &got[1] else {
                panic!("{got:?}")
            };
            let bytes = element_to_bytes(el).unwrap();
            let mut out = BytesMut::new();
            StreamWriter::new().element(el, &mut out).unwrap();
            let text = String::from(el);
            let debug = format!("{el:?}");
            assert!(text.len() > depth * 7 && debug.len() > depth);
            let back = parse_element_with_limits(&bytes, limits).unwrap();
            assert_eq!(&back, el);
            let event = connectycube_protocol::classify::classify(el.clone());
            assert!(event.is_ok(), "{event:?}");
            drop(back);
        })
        .unwrap();
    worker.join().unwrap();
}

/// Found by the fuzz target: rxml reserves the token limit up front, and a stanza limit of
/// `usize::MAX` panicked with a capacity overflow on the first token.
#[test]
fn an_unbounded_stanza_limit_does_not_panic() {
    let doc = format!("{HEADER}<inactive xmlns='urn:xmpp:csi:0'/>\n");
    let got = frames(&mut StreamParser::new(usize::MAX), doc.as_bytes()).unwrap();
    assert_eq!(got.len(), 2);
    let el = parse_element(b"<inactive xmlns='urn:xmpp:csi:0'/>", usize::MAX).unwrap();
    assert!(el.is("inactive", "urn:xmpp:csi:0"));
}
