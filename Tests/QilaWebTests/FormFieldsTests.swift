import Foundation
import Testing
@testable import QilaWeb

@Suite("Form decoding")
struct FormFieldsTests {
    @Test("any bytes decode without crashing, and encoded fields round-trip")
    func property() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let length = Int.random(in: 0..<64, using: &generator)
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            _ = FormFields(String(decoding: bytes, as: UTF8.self))
        }
        let allowed = CharacterSet.alphanumerics
        for _ in 0..<500 {
            let name = String((0..<Int.random(in: 1..<8)).map { _ in "abcdefgh_".randomElement()! })
            let value = String((0..<Int.random(in: 0..<20)).map { _ in "aé &=+%/?😀\u{0}".randomElement()! })
            let encoded = "\(name)=\(value.addingPercentEncoding(withAllowedCharacters: allowed)!)&other=1"
            let fields = FormFields(encoded)
            #expect(fields[name] == value)
            #expect(fields["other"] == "1")
        }
    }

    @Test("repeated names keep every value; plus means space")
    func repeated() {
        let fields = FormFields("role=a&role=b&name=Ayesha+Khan&empty=")
        #expect(fields.all("role") == ["a", "b"])
        #expect(fields["name"] == "Ayesha Khan")
        #expect(fields["empty"] == "")
        #expect(throws: Problem.self) { try fields.required("empty") }
        #expect(throws: Problem.self) { try fields.required("missing") }
    }
}
