import Foundation
import Reporting
import TestSupport
import Testing

/// `report --out PATH` replaces only regular files.
@Suite struct ReportOutputTests {
    private func anyReport() throws -> (ReportFixture, FinanceReport) {
        var fixture = try ReportFixture("report-out")
        try fixture.add([event("2026-11-02T12:00:00Z", bytes: 5_000)])
        let cards = try schedule(card(zone: "UTC"))
        let report = try fixture.report(
            cards, try ReportPeriod.billingPeriod(month: "2026-11", rule: cards.billingPeriod), asOf: "2026-12-01T00:00:00Z")
        return (fixture, report)
    }

    private func type(_ path: String) -> FileAttributeType? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.type] as? FileAttributeType
    }

    @Test func aDeviceIsWrittenInPlaceNeverReplaced() throws {
        let (fixture, report) = try anyReport()
        defer { fixture.close() }
        try #require(type("/dev/null") == .typeCharacterSpecial)
        try ReportRenderer.write(report, as: .md, to: "/dev/null")
        #expect(type("/dev/null") == .typeCharacterSpecial)
        let link = fixture.scratch.file("null-link")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "/dev/null")
        try ReportRenderer.write(report, as: .csv, to: link)
        #expect(type("/dev/null") == .typeCharacterSpecial)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == "/dev/null")
    }

    @Test func aDirectoryIsRefusedAndARegularFileReplaced() throws {
        let (fixture, report) = try anyReport()
        defer { fixture.close() }
        let folder = fixture.scratch.file("reports")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let error = try #require(throws: ReportError.self) { try ReportRenderer.write(report, as: .html, to: folder) }
        #expect(error.message.contains("is a directory"))
        #expect(type(folder) == .typeDirectory)
        let file = fixture.scratch.file("old.json")
        try Data("old".utf8).write(to: URL(fileURLWithPath: file))
        try ReportRenderer.write(report, as: .json, to: file)
        #expect(try String(contentsOfFile: file, encoding: .utf8).hasPrefix("{"))
    }
}
