import QilaCore
import Testing

@Suite("CSV reading (RFC 4180)")
struct CSVReaderTests {
    @Test("Quoted fields hold commas, quotes and line breaks; CRLF and LF end lines; a BOM is skipped; blank lines are left out")
    func reads() throws {
        let text = "\u{FEFF}a,b,c\r\n1,\"two, three\",\"say \"\"hi\"\"\"\n\n\"multi\nline\",,x\r\nlast,row,"
        #expect(try CSV.rows(text) == [["a", "b", "c"], ["1", "two, three", "say \"hi\""], ["multi\nline", "", "x"], ["last", "row", ""]])
        #expect(try CSV.rows("") == [])
        #expect(try CSV.rows("only") == [["only"]])
    }

    @Test("Misplaced quotes are refused with their line", arguments: [
        ("a,b\nc,d\"e\n", 2), ("a\n\"open,b\nc\n", 2), ("\"x\"y,z\n", 1),
    ] as [(String, Int)])
    func refuses(text: String, line: Int) {
        #expect(throws: CSV.ReadError.self) { _ = try CSV.rows(text) }
        do { _ = try CSV.rows(text) } catch { #expect(error.line == line) }
    }

    @Test("Property: what CSV.field writes, CSV.rows reads back")
    func roundTrip() throws {
        var state: UInt64 = 42
        func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state >> 33
        }
        let alphabet = Array("ab ,\"\n\r'=ŋ١")
        for _ in 0..<2000 {
            let rows = (0..<Int(next() % 4 + 1)).map { _ in
                (0..<Int(next() % 4 + 1)).map { _ in String((0..<Int(next() % 6)).map { _ in alphabet[Int(next() % UInt64(alphabet.count))] }) }
            }
            let text = rows.map { $0.map(CSV.field).joined(separator: ",") }.joined(separator: "\r\n")
            let read = try CSV.rows(text)
            // CSV.field defuses formulae with a leading quote and a lone carriage return in a field
            // is quoted; a row that is a single empty field is a blank line and left out.
            let expected = rows.map { $0.map { value -> String in
                if let first = value.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) { return "'" + value }
                return value
            } }.filter { !($0.count == 1 && $0[0].isEmpty) }
            #expect(read == expected, "\(text.debugDescription)")
        }
    }
}
