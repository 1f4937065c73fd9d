import Ledger
import Testing

@Suite struct DurationUnitsTests {
    @Test func wholeUnitsRoundTowardZeroAndSaturate() {
        let value = Duration.seconds(2) + .nanoseconds(1_999_999)
        #expect(value.wholeMilliseconds == 2_001)
        #expect(value.wholeMicroseconds == 2_001_999)
        #expect(value.wholeNanoseconds == 2_001_999_999)
        #expect(Duration.milliseconds(-1_500).wholeMilliseconds == -1_500)
        #expect(Duration.seconds(Int64.max).wholeMicroseconds == .max)
        #expect(Duration.seconds(Int64.min).wholeNanoseconds == .min)
        #expect(Duration.milliseconds(250).inSeconds == 0.25)
    }
}
