/// Windows event XML on one line, as Sysmon for Linux writes it to syslog and as Windows Event
/// Forwarding renders events (the "Event schema" of Windows' Event Log, which Sysmon for Linux
/// follows): `<Event><System>...</System><EventData><Data Name="Image">/usr/bin/id</Data>...</EventData></Event>`.
///
/// Written flat, as NXLog writes Windows events, so the Windows and Sysmon-for-Linux mappings read
/// it by Sigma's names: each element of System by its name with its text (`EventID`, `Channel`,
/// `Computer`, `Level`), its attributes as `Element_Attribute` (`Provider_Name`,
/// `TimeCreated_SystemTime`, `Execution_ProcessID`, `Security_UserID`), and each `Data` of
/// EventData or UserData by its `Name`. Entities and character references are decoded; CDATA is
/// read as text.
enum EventXMLLine {
    static func parse(_ cursor: inout LineCursor, into fields: inout EventFields) throws(LineFormatError) {
        guard let start = cursor.find("<Event", from: 0) else { throw cursor.fail("no <Event> element", at: 0) }
        cursor.at = start
        var path: [String] = []
        var dataName: String?
        var text: [UInt8] = []
        var sawSystem = false
        while true {
            guard let open = cursor.firstIndex(of: UInt8(ascii: "<"), from: cursor.at) else {
                if path.isEmpty { break }
                throw cursor.fail("the document ends inside <\(path.last!)>", at: cursor.bytes.count)
            }
            // Text before the tag belongs to the element that is open.
            if open > cursor.at { try decode(cursor, cursor.at..<open, into: &text) }
            cursor.at = open + 1
            if cursor.take("![CDATA[") {
                guard let end = cursor.find("]]>", from: cursor.at) else { throw cursor.fail("a CDATA section is not closed", at: open) }
                text.append(contentsOf: cursor[cursor.at..<end])
                cursor.at = end + 3
                continue
            }
            if cursor.take("?") || cursor.take("!") {
                guard let end = cursor.firstIndex(of: UInt8(ascii: ">"), from: cursor.at) else { throw cursor.fail("a declaration is not closed", at: open) }
                cursor.at = end + 1
                continue
            }
            let closing = cursor.take("/")
            let nameStart = cursor.at
            while let byte = cursor.peek, byte != 0x20, byte != UInt8(ascii: ">"), byte != UInt8(ascii: "/"), byte != 0x09 { cursor.at += 1 }
            let name = cursor.text(nameStart..<cursor.at)
            guard !name.isEmpty else { throw cursor.fail("an element without a name", at: open) }
            if closing {
                guard path.last == name else { throw cursor.fail("</\(name)> closes <\(path.last ?? "nothing")>", at: open) }
                guard let end = cursor.firstIndex(of: UInt8(ascii: ">"), from: cursor.at) else { throw cursor.fail("</\(name)> is not closed", at: open) }
                cursor.at = end + 1
                finish(name, path: path, dataName: &dataName, text: &text, into: &fields)
                path.removeLast()
                if path.isEmpty { break }
                continue
            }
            let attributes = try self.attributes(&cursor, element: name)
            let selfClosing = cursor.take("/")
            guard cursor.take(">") else { throw cursor.fail("<\(name) is not closed with >", at: cursor.at) }
            guard path.count < 8 else { throw cursor.fail("elements nested more than 8 deep", at: open) }
            if path.isEmpty, name != "Event" { throw cursor.fail("the document is not an <Event>", at: open) }
            let parent = path.last
            if parent == "System" {
                sawSystem = true
                for (attribute, value) in attributes { fields.string("\(name)_\(attribute)", value) }
            }
            if name == "Data" { dataName = attributes.first { $0.0 == "Name" }?.1 }
            text.removeAll(keepingCapacity: true)
            if selfClosing {
                if name == "Data", let key = dataName { fields.string(key, "") }
                dataName = nil
                continue
            }
            path.append(name)
        }
        guard sawSystem else { throw cursor.fail("the event has no <System> element", at: start) }
    }

    /// An element's end: System's children are written by name, Data by its Name attribute, and
    /// the children of UserData's element by their own names.
    static func finish(_ name: String, path: [String], dataName: inout String?, text: inout [UInt8], into fields: inout EventFields) {
        let parent = path.count >= 2 ? path[path.count - 2] : nil
        if name == "Data", let key = dataName {
            fields.string(key.utf8, text)
            dataName = nil
        } else if parent == "System" {
            if !text.isEmpty { fields.string(name.utf8, text) }
        } else if path.count >= 3, path[path.count - 3] == "UserData" {
            fields.string(name.utf8, text)
        }
        text.removeAll(keepingCapacity: true)
    }

    static func attributes(_ cursor: inout LineCursor, element: String) throws(LineFormatError) -> [(String, String)] {
        var result: [(String, String)] = []
        var scratch: [UInt8] = []
        while true {
            cursor.skipSpaces()
            guard let byte = cursor.peek, byte != UInt8(ascii: ">"), byte != UInt8(ascii: "/") else { return result }
            let nameStart = cursor.at
            while let byte = cursor.peek, byte != UInt8(ascii: "="), byte != 0x20, byte != UInt8(ascii: ">") { cursor.at += 1 }
            let name = cursor.text(nameStart..<cursor.at)
            guard !name.isEmpty, cursor.take("="), let quote = cursor.peek, quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'") else {
                throw cursor.fail("an attribute of <\(element)> is not name=\"value\"", at: nameStart)
            }
            cursor.at += 1
            guard let end = cursor.firstIndex(of: quote, from: cursor.at) else { throw cursor.fail("an attribute of <\(element)> is not closed", at: nameStart) }
            scratch.removeAll(keepingCapacity: true)
            try decode(cursor, cursor.at..<end, into: &scratch)
            result.append((name, String(decoding: scratch, as: UTF8.self)))
            cursor.at = end + 1
        }
    }

    /// Text with `&lt;`, `&gt;`, `&amp;`, `&quot;`, `&apos;` and `&#NN;` / `&#xHH;` decoded.
    static func decode(_ cursor: LineCursor, _ range: Range<Int>, into out: inout [UInt8]) throws(LineFormatError) {
        var index = range.lowerBound
        while index < range.upperBound {
            let byte = cursor.bytes[index]
            guard byte == UInt8(ascii: "&") else {
                out.append(byte)
                index += 1
                continue
            }
            guard let semicolon = cursor.firstIndex(of: UInt8(ascii: ";"), from: index), semicolon < range.upperBound, semicolon - index <= 10 else {
                throw cursor.fail("'&' begins no entity", at: index)
            }
            let entity = cursor.text((index + 1)..<semicolon)
            switch entity {
            case "lt": out.append(UInt8(ascii: "<"))
            case "gt": out.append(UInt8(ascii: ">"))
            case "amp": out.append(UInt8(ascii: "&"))
            case "quot": out.append(UInt8(ascii: "\""))
            case "apos": out.append(UInt8(ascii: "'"))
            default:
                let hex = entity.hasPrefix("#x") || entity.hasPrefix("#X")
                guard entity.hasPrefix("#"), let value = UInt32(entity.dropFirst(hex ? 2 : 1), radix: hex ? 16 : 10), let scalar = Unicode.Scalar(value) else {
                    throw cursor.fail("&\(entity); is not an entity XML knows", at: index)
                }
                out.append(contentsOf: String(Character(scalar)).utf8)
            }
            index = semicolon + 1
        }
    }
}
