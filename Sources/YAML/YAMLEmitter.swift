internal import CYAML
#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
public import DataTree

/// Emits `Node` trees as block-style YAML through the system libyaml.
///
/// Guarantees: the same tree always gives the same bytes (mapping order is kept, no line
/// wrapping, UTF-8 kept as is); strings that a YAML 1.1 or 1.2 reader would turn into another
/// type are double-quoted (`ScalarResolver.needsQuotes`); multi-line strings use literal
/// block style where libyaml allows it; output ends with a newline.
public struct YAMLEmitter: Sendable {
    public init() {}

    /// One document.
    public func emit(_ node: Node) throws(YAMLEmitterError) -> [UInt8] {
        try emit(documents: [node])
    }

    /// One document, as a string.
    public func emitString(_ node: Node) throws(YAMLEmitterError) -> String {
        String(decoding: try emit(node), as: UTF8.self)
    }

    /// Several documents separated by `---`.
    public func emit(documents: [Node]) throws(YAMLEmitterError) -> [UInt8] {
        let session = EmitSession()
        return try session.run(documents)
    }
}

/// libyaml refused an event. This indicates a bug in netwatch, never bad user input.
public struct YAMLEmitterError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { "YAML emitter: \(message)" }
}

/// Collects the emitter's output; handed to libyaml as an unretained context pointer.
private final class OutputBuffer {
    var bytes: [UInt8] = []
}

private final class EmitSession {
    private var emitter = yaml_emitter_t()
    private let output = OutputBuffer()

    func run(_ documents: [Node]) throws(YAMLEmitterError) -> [UInt8] {
        guard yaml_emitter_initialize(&emitter) == 1 else { throw YAMLEmitterError(message: "could not allocate an emitter") }
        defer { yaml_emitter_delete(&emitter) }
        yaml_emitter_set_unicode(&emitter, 1)
        yaml_emitter_set_width(&emitter, -1)
        yaml_emitter_set_indent(&emitter, 2)
        yaml_emitter_set_output(&emitter, { context, buffer, size in
            guard let context, let buffer else { return 0 }
            let output = Unmanaged<OutputBuffer>.fromOpaque(context).takeUnretainedValue()
            output.bytes.append(contentsOf: UnsafeBufferPointer(start: buffer, count: size))
            return 1
        }, Unmanaged.passUnretained(output).toOpaque())

        try withExtendedLifetime(output) { () throws(YAMLEmitterError) in
            var event = yaml_event_t()
            yaml_stream_start_event_initialize(&event, YAML_UTF8_ENCODING)
            try emitEvent(&event)
            for (index, document) in documents.enumerated() {
                yaml_document_start_event_initialize(&event, nil, nil, nil, index == 0 ? 1 : 0)
                try emitEvent(&event)
                try emitNode(document)
                yaml_document_end_event_initialize(&event, 1)
                try emitEvent(&event)
            }
            yaml_stream_end_event_initialize(&event)
            try emitEvent(&event)
            guard yaml_emitter_flush(&emitter) == 1 else { throw problem() }
        }
        return output.bytes
    }

    private func problem() -> YAMLEmitterError {
        YAMLEmitterError(message: emitter.problem.map { String(cString: $0) } ?? "unknown error")
    }

    /// `yaml_emitter_emit` takes ownership of the event, also on failure.
    private func emitEvent(_ event: inout yaml_event_t) throws(YAMLEmitterError) {
        guard yaml_emitter_emit(&emitter, &event) == 1 else { throw problem() }
    }

    private func emitNode(_ node: Node) throws(YAMLEmitterError) {
        var event = yaml_event_t()
        switch node {
        case .null:
            try scalar("null", style: YAML_PLAIN_SCALAR_STYLE)
        case .bool(let value):
            try scalar(value ? "true" : "false", style: YAML_PLAIN_SCALAR_STYLE)
        case .int(let value):
            try scalar(String(value), style: YAML_PLAIN_SCALAR_STYLE)
        case .double(let value):
            try scalar(Self.format(value), style: YAML_PLAIN_SCALAR_STYLE)
        case .string(let value):
            try scalar(value, style: Self.style(for: value))
        case .sequence(let elements):
            yaml_sequence_start_event_initialize(&event, nil, nil, 1, YAML_BLOCK_SEQUENCE_STYLE)
            try emitEvent(&event)
            for element in elements { try emitNode(element) }
            yaml_sequence_end_event_initialize(&event)
            try emitEvent(&event)
        case .mapping(let mapping):
            yaml_mapping_start_event_initialize(&event, nil, nil, 1, YAML_BLOCK_MAPPING_STYLE)
            try emitEvent(&event)
            for entry in mapping.entries {
                try scalar(entry.key, style: Self.style(for: entry.key))
                try emitNode(entry.value)
            }
            yaml_mapping_end_event_initialize(&event)
            try emitEvent(&event)
        }
    }

    private func scalar(_ text: String, style: yaml_scalar_style_t) throws(YAMLEmitterError) {
        var event = yaml_event_t()
        var bytes = Array(text.utf8)
        let ok = bytes.withUnsafeMutableBufferPointer { buffer in
            yaml_scalar_event_initialize(&event, nil, nil, buffer.baseAddress, Int32(buffer.count), 1, 1, style)
        }
        guard ok == 1 else { throw YAMLEmitterError(message: "could not create a scalar event") }
        try emitEvent(&event)
    }

    static func style(for text: String) -> yaml_scalar_style_t {
        if ScalarResolver.needsQuotes(text) { return YAML_DOUBLE_QUOTED_SCALAR_STYLE }
        // memchr on the bytes: Character iteration, even a generic byte loop, is slow here.
        var text = text
        if text.withUTF8({ !$0.isEmpty && memchr($0.baseAddress!, 0x0A, $0.count) != nil }) { return YAML_LITERAL_SCALAR_STYLE }
        return YAML_PLAIN_SCALAR_STYLE
    }

    /// Shortest round-trip form, always with a fraction or exponent so readers keep it a float.
    static func format(_ value: Double) -> String {
        if value.isNaN { return ".nan" }
        if value.isInfinite { return value < 0 ? "-.inf" : ".inf" }
        return "\(value)"
    }
}
