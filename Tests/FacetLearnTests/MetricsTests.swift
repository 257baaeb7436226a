import Foundation
import Testing
@testable import FacetLearn

/// The report and confusion matrix against scikit-learn (tools/make_metric_fixtures.py).
@Suite struct MetricsTests {
    struct Case: Decodable { var classes: [String]; var truth: [Int]; var predicted: [Int]; var report: String; var confusion: [[Int]] }
    struct File: Decodable { var sklearn: String; var cases: [Case] }

    static let file: File = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/metrics/reports.json")
        return try! JSONDecoder().decode(File.self, from: Data(contentsOf: url))
    }()

    @Test(arguments: 0..<6)
    func textIsByteIdenticalToScikitLearn(_ i: Int) {
        let c = Self.file.cases[i]
        let r = ClassificationReport(truth: c.truth, predicted: c.predicted, classes: c.classes)
        #expect(r.text() == c.report, "\n\(r.text())\nvs scikit-learn \(Self.file.sklearn):\n\(c.report)")
        #expect(r.confusion == c.confusion)
    }

    @Test func jsonCarriesTheSameNumbers() throws {
        let c = Self.file.cases[0]
        let r = ClassificationReport(truth: c.truth, predicted: c.predicted, classes: c.classes)
        let back = try JSONDecoder().decode(ClassificationReport.self, from: JSONEncoder().encode(r))
        #expect(back == r)
        #expect(r.accuracy == 5.0 / 8 && r.perClass[2].support == 4 && r.perClass[1].precision == 0.5)
    }
}
