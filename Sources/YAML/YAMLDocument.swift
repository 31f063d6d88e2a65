public import DataTree

/// One document of a multi-document YAML stream, with where it starts.
public struct YAMLDocument: Sendable, Hashable {
    /// The parsed content.
    public var node: Node
    /// The source file name, as given to the parser.
    public var file: String
    /// 1-based line where the document's content starts.
    public var line: Int
    /// 0-based index of the document in its stream.
    public var index: Int

    public init(node: Node, file: String, line: Int, index: Int) {
        self.node = node
        self.file = file
        self.line = line
        self.index = index
    }
}
