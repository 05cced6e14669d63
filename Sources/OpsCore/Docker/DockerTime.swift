import FoundationEssentials

/// Reads the time `docker image ls` prints (`2026-11-22 01:13:01 +0000 UTC`) without a date formatter:
/// the format is fixed, and formatters drag in locale and time-zone data we do not need.
enum DockerTime {
    static func parse(_ text: String) -> Date? {
        let parts = text.split(separator: " ")
        guard parts.count >= 3 else { return nil }
        let day = parts[0].split(separator: "-").compactMap { Int($0) }
        let time = parts[1].split(separator: ":").compactMap { Int($0) }
        let offset = parts[2]
        guard day.count == 3, (1...12).contains(day[1]), time.count == 3, offset.count == 5,
            let sign = offset.first, sign == "+" || sign == "-", let hhmm = Int(offset.dropFirst())
        else { return nil }
        let offsetSeconds = (hhmm / 100 * 3600 + hhmm % 100 * 60) * (sign == "-" ? -1 : 1)
        let seconds = CertificateDate.daysFromCivil(year: day[0], month: day[1], day: day[2]) * 86_400
            + time[0] * 3600 + time[1] * 60 + time[2] - offsetSeconds
        return Date(timeIntervalSince1970: Double(seconds))
    }
}
