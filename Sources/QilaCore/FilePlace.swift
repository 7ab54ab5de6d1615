/// Where in a file something is wrong, said the same way for every file Qila reads (regimes,
/// frameworks): `FILE, line N, key K: message`, leaving out what is not known.
public func placed(_ message: String, file: String?, line: Int?, key: String?) -> String {
    var place: [String] = []
    if let file { place.append(file) }
    if let line { place.append("line \(line)") }
    if let key { place.append("key \(key)") }
    return place.isEmpty ? message : "\(place.joined(separator: ", ")): \(message)"
}
