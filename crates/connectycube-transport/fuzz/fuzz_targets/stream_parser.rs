//! Any bytes as the server's side of a stream: the parser yields frames or a typed error, never a
//! panic or a stack overflow; however the bytes are split into reads, the same frames come out;
//! every stanza it yields serializes and reads back to the same serialization; the WebSocket path (one element per
//! message) takes the same bytes without panicking.

#![no_main]

use bytes::BytesMut;
use connectycube_transport::error::StreamError;
use connectycube_transport::xml_stream::{
    Frame, StreamLimits, StreamParser, StreamWriter, element_to_bytes, parse_element_with_limits,
};
use libfuzzer_sys::fuzz_target;

const HEADER: &[u8] = b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' from='localhost' id='f' version='1.0'>";

/// Feeds `doc` in reads of `chunk` bytes (0: all at once), keeping unconsumed bytes like the
/// reader task does; returns the frames and whether the stream failed.
fn run(doc: &[u8], chunk: usize, limits: StreamLimits) -> (Vec<Frame>, Option<StreamError>) {
    let mut parser = StreamParser::with_limits(limits);
    let mut frames = Vec::new();
    let mut pending: Vec<u8> = Vec::new();
    let step = if chunk == 0 { doc.len().max(1) } else { chunk };
    for read in doc.chunks(step) {
        pending.extend_from_slice(read);
        let mut data = &pending[..];
        loop {
            match parser.next_frame(&mut data) {
                Ok(Some(frame)) => frames.push(frame),
                Ok(None) => break,
                Err(e) => return (frames, Some(e)),
            }
        }
        let used = pending.len() - data.len();
        pending.drain(..used);
    }
    (frames, None)
}

fuzz_target!(|input: &[u8]| {
    let Some((&flags, body)) = input.split_first() else {
        return;
    };
    // Small limits so the fuzzer reaches them; the depth one as small as 1.
    let limits = StreamLimits {
        max_stanza_size: 16 * 1024,
        max_depth: usize::from(flags >> 4) * 3 + 1,
    };
    let mut doc = Vec::with_capacity(HEADER.len() + body.len());
    if flags & 1 == 1 {
        doc.extend_from_slice(HEADER);
    }
    doc.extend_from_slice(body);

    let (whole, whole_err) = run(&doc, 0, limits);
    let chunk = usize::from((flags >> 1) & 7) * 7 + 1;
    let (split, split_err) = run(&doc, chunk, limits);
    assert_eq!(whole, split, "reads of {chunk} bytes gave other frames");
    assert_eq!(
        whole_err.is_some(),
        split_err.is_some(),
        "reads of {chunk} bytes: {whole_err:?} vs {split_err:?}"
    );

    for frame in &whole {
        let Frame::Stanza(el) = frame else { continue };
        let mut out = BytesMut::new();
        StreamWriter::new()
            .element(el, &mut out)
            .expect("a parsed stanza serializes in a stream");
        let bytes = element_to_bytes(el).expect("a parsed stanza serializes alone");
        let back = parse_element_with_limits(&bytes, StreamLimits {
            max_stanza_size: usize::MAX,
            ..limits
        })
        .expect("our own serialization reads back");
        // Compared as serialized: the parser may split one text into several nodes.
        let again = element_to_bytes(&back).expect("a reparsed stanza serializes");
        assert_eq!(again, bytes, "round trip changed the stanza");
        assert_eq!(back.name(), el.name());
        let _ = String::from(el);
    }

    let _ = parse_element_with_limits(body, limits);
});
