// The Prometheus text writer behind GET /metrics (app/metrics_text.h): HELP and TYPE once per family, samples of a
// family kept together, label values escaped, numbers in the format's spelling, bad names refused.
#include <gtest/gtest.h>

#include <limits>
#include <stdexcept>

#include "app/metrics_text.h"

namespace mesim::app {
namespace {

constexpr MetricFamily kRequests{"demo_requests_total", MetricType::Counter, "Requests, by device."};
constexpr MetricFamily kQueued{"demo_queued", MetricType::Gauge, "Items waiting."};

TEST(MetricsText, HelpAndTypeOnceAndEachFamilysSamplesTogether) {
  MetricsText out;
  out.declare(kRequests);
  out.declare(kQueued);
  out.add(kRequests, {{"device", "a"}}, std::uint64_t{3});
  out.add(kQueued, {{"device", "a"}}, 2);
  out.add(kRequests, {{"device", "b"}}, std::uint64_t{18446744073709551615u});
  out.declare(kRequests);  // again: nothing more
  EXPECT_EQ(out.text(),
            "# HELP demo_requests_total Requests, by device.\n"
            "# TYPE demo_requests_total counter\n"
            "demo_requests_total{device=\"a\"} 3\n"
            "demo_requests_total{device=\"b\"} 18446744073709551615\n"
            "# HELP demo_queued Items waiting.\n"
            "# TYPE demo_queued gauge\n"
            "demo_queued{device=\"a\"} 2\n");
}

TEST(MetricsText, AFamilyWithoutSamplesIsStillListed) {
  MetricsText out;
  out.declare(kQueued);
  EXPECT_EQ(out.text(), "# HELP demo_queued Items waiting.\n# TYPE demo_queued gauge\n");
}

TEST(MetricsText, LabelValuesAreEscapedAndEmptyLabelsLeftOut) {
  MetricsText out;
  out.add(kQueued, {{"device", "a\\b\"c\nd"}, {"method", ""}, {"kind", "x"}}, 1);
  out.add(kQueued, {{"method", ""}}, 0);
  EXPECT_EQ(out.text(),
            "# HELP demo_queued Items waiting.\n# TYPE demo_queued gauge\n"
            "demo_queued{device=\"a\\\\b\\\"c\\nd\",kind=\"x\"} 1\n"
            "demo_queued 0\n");
  EXPECT_EQ(MetricsText::escapeLabelValue("plain"), "plain");
  EXPECT_EQ(MetricsText::escapeLabelValue("bad \xff byte"), "bad \xEF\xBF\xBD byte") << "not UTF-8: replaced";
}

TEST(MetricsText, HelpTextEscapesBackslashAndLineFeedOnly) {
  MetricsText out;
  out.declare({"demo_help", MetricType::Gauge, "a \"quoted\" back\\slash\nsecond line"});
  EXPECT_EQ(out.text(), "# HELP demo_help a \"quoted\" back\\\\slash\\nsecond line\n# TYPE demo_help gauge\n");
}

TEST(MetricsText, NumbersAreWrittenAsTheFormatSpellsThem) {
  EXPECT_EQ(MetricsText::formatNumber(0.25), "0.25");
  EXPECT_EQ(MetricsText::formatNumber(1e21), "1e+21");
  EXPECT_EQ(MetricsText::formatNumber(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(MetricsText::formatNumber(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(MetricsText::formatNumber(std::numeric_limits<double>::quiet_NaN()), "NaN");
  MetricsText out;
  out.add(kQueued, {}, -4);
  out.add(kQueued, {}, 1.5);
  out.add(kQueued, {}, true);
  EXPECT_NE(out.text().find("demo_queued -4\ndemo_queued 1.5\ndemo_queued 1\n"), std::string::npos) << out.text();
}

TEST(MetricsText, NamesTheFormatDoesNotAllowAreProgrammingErrors) {
  MetricsText out;
  EXPECT_THROW(out.declare({"9lives", MetricType::Gauge, ""}), std::logic_error);
  EXPECT_THROW(out.declare({"has-dash", MetricType::Gauge, ""}), std::logic_error);
  EXPECT_THROW(out.declare({"demo_requests", MetricType::Counter, ""}), std::logic_error) << "a counter ends in _total";
  out.declare(kQueued);
  EXPECT_THROW(out.declare({"demo_queued", MetricType::Counter, ""}), std::logic_error) << "one family, one type";
  EXPECT_THROW(out.add(kQueued, {{"bad-label", "x"}}, 1), std::logic_error);
  EXPECT_THROW(out.add(kQueued, {{"__reserved", "x"}}, 1), std::logic_error);
  EXPECT_TRUE(MetricsText::validMetricName("ns:sub_name_total"));
  EXPECT_TRUE(MetricsText::validLabelName("_private"));
  EXPECT_FALSE(MetricsText::validLabelName("9"));
}

}  // namespace
}  // namespace mesim::app
