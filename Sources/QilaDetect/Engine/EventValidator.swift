/// Checks that bytes are one JSON object in UTF-8, as the matcher requires, without keeping
/// anything: intake uses it to tell a sender which of its lines are refused, and where.
public enum EventValidator {
    private static let scanner = EventScanner(tree: FieldTree())

    public static func check(_ bytes: UnsafeBufferPointer<UInt8>, maximumSize: Int = 1 << 20) throws(EventError) {
        guard bytes.count <= maximumSize else {
            throw EventError(kind: .tooLarge, offset: maximumSize, detail: "an event may have at most \(maximumSize) bytes")
        }
        var event = ScannedEvent()
        try scanner.scan(bytes, into: &event)
    }
}
