// The CLI's own logic called directly, not through the executable: the command line parsed into
// the library's typed choices, the strict value parsers, and the page's HTML escaping.
#include "html_text.hpp"
#include "options.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace fitreel::app {
namespace units_tests {

// parse_command_line over `args` (argv without the program's name).
ParseOutcome parse(std::vector<std::string> args) {
  args.insert(args.begin(), "fitreel");
  std::vector<const char*> argv;
  for (const std::string& arg : args) {
    argv.push_back(arg.c_str());
  }
  return parse_command_line(static_cast<int>(argv.size()), argv.data());
}

TEST(CommandLine, EveryChoiceArrivesAsTheLibrarysOwnValue) {
  const ParseOutcome parsed =
      parse({"net", "--optimizer", "sgd", "--momentum", "0.9", "--activation", "tanh",
             "--gradients", "analytic", "--kernels", "fused", "--schedule", "log", "--loss",
             "huber:2", "--lr-schedule", "exp:0.99"});
  ASSERT_TRUE(parsed.options) << "exit " << parsed.exit_code;
  const RunOptions& options = *parsed.options;
  EXPECT_EQ(options.command, Command::net);
  EXPECT_EQ(options.optimizer, OptimizerKind::sgd);
  EXPECT_EQ(options.activation, Activation::tanh);
  EXPECT_EQ(options.gradients, Gradients::analytic);
  EXPECT_EQ(options.kernels, TrainPath::fastest);
  EXPECT_EQ(options.schedule, Schedule::log);
  EXPECT_EQ(options.training.loss, LossKind::huber);
  EXPECT_EQ(options.training.huber_delta, 2.0);
  EXPECT_EQ(options.training.schedule, LrScheduleKind::exponential);
  EXPECT_EQ(options.training.gamma, 0.99);
  EXPECT_EQ(options.training.momentum, 0.9);
}

TEST(CommandLine, DefaultsLeaveTheDemosOwnChoicesOpen) {
  const ParseOutcome parsed = parse({});
  ASSERT_TRUE(parsed.options);
  EXPECT_EQ(parsed.options->command, Command::all);
  EXPECT_EQ(parsed.options->gradients, Gradients::automatic);
  EXPECT_FALSE(parsed.options->kernels);
  EXPECT_FALSE(parsed.options->schedule);
  EXPECT_EQ(parsed.options->training.schedule, LrScheduleKind::constant);
}

TEST(CommandLine, ASweepNamesItsDemo) {
  const ParseOutcome parsed = parse({"sweep", "net", "--lrs", "0.1,1", "--kernels", "exact"});
  ASSERT_TRUE(parsed.options);
  EXPECT_EQ(parsed.options->command, Command::sweep);
  EXPECT_EQ(parsed.options->sweep_demo, Demo::net);
  EXPECT_EQ(parsed.options->kernels, TrainPath::exact);
  EXPECT_EQ(parsed.options->lrs, (std::vector<double>{0.1, 1.0}));
}

TEST(CommandLine, AChoiceOutsideItsListIsAUsageError) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"net", "--optimizer", "rmsprop"},
        {"net", "--activation", "Sigmoid"},
        {"line", "--gradients", "manual"},
        {"line", "--kernels", "fast"},
        {"line", "--lr-schedule", "linear"},
        {"sweep", "cubic"}}) {
    const ParseOutcome parsed = parse(args);
    EXPECT_FALSE(parsed.options) << args[1];
    EXPECT_EQ(parsed.exit_code, kExitUsage) << args[1];
  }
}

TEST(CommandLine, TheDemosOfEachCommand) {
  EXPECT_EQ(demos_of(Command::line, Demo::net), std::vector<Demo>{Demo::line});
  EXPECT_EQ(demos_of(Command::net, Demo::line), std::vector<Demo>{Demo::net});
  EXPECT_EQ(demos_of(Command::all, Demo::net), (std::vector<Demo>{Demo::line, Demo::net}));
  EXPECT_EQ(demos_of(Command::sweep, Demo::net), std::vector<Demo>{Demo::net});
  EXPECT_EQ(demo_name(Demo::line), "line");
  EXPECT_EQ(demo_name(Demo::net), "net");
}

TEST(ValueParsers, ANamedValueOrAnErrorListingTheNames) {
  const std::vector<Named<int>> choices{{"one", 1}, {"two", 2}, {"three", 3}};
  EXPECT_EQ(parse_named<int>("two", "--count", choices), 2);
  try {
    parse_named<int>("Two", "--count", choices);
    FAIL() << "no error";
  } catch (const UsageError& error) {
    EXPECT_STREQ(error.what(), "--count got 'Two'; it takes one, two or three");
  }
}

TEST(ValueParsers, NumbersAreWholeDecimalTextWithinTheirRange) {
  EXPECT_EQ(parse_integer("42", "--epochs", 1, 100), 42);
  EXPECT_THROW(parse_integer("42x", "--epochs", 1, 100), UsageError);
  EXPECT_THROW(parse_integer("0x10", "--epochs", 1, 100), UsageError);
  EXPECT_THROW(parse_integer("101", "--epochs", 1, 100), UsageError);
  EXPECT_EQ(parse_learning_rate("1e-3", "--lr"), 1e-3);
  EXPECT_THROW(parse_learning_rate("1e-50", "--lr"), UsageError);  // 0 in float32
  EXPECT_THROW(parse_positive_real("nan", "--lr"), UsageError);
  EXPECT_EQ(parse_real("-2.5", "--truth"), -2.5);
}

TEST(ValueParsers, SeedsAsARangeOrAListOfDistinctSeeds) {
  EXPECT_EQ(parse_seeds("3..5"), (std::vector<uint64_t>{3, 4, 5}));
  EXPECT_EQ(parse_seeds("7,1"), (std::vector<uint64_t>{7, 1}));
  EXPECT_THROW(parse_seeds("1,7,1"), UsageError);
  EXPECT_THROW(parse_seeds("5..3"), UsageError);
  EXPECT_THROW(parse_seeds("0..256"), UsageError);  // 257 seeds
  EXPECT_EQ(parse_seeds("18446744073709551615..18446744073709551615").size(), 1U);
}

TEST(ValueParsers, SizesAreEvenAndWithinTheLimits) {
  EXPECT_EQ(parse_size("640x360", "--size", 64, 7680), std::make_pair(640, 360));
  EXPECT_THROW(parse_size("641x360", "--size", 64, 7680), UsageError);
  EXPECT_THROW(parse_size("32x32", "--size", 64, 7680), UsageError);
  EXPECT_THROW(parse_size("640 x 360", "--size", 64, 7680), UsageError);
}

TEST(HtmlText, MarkupAndBrokenUtf8CannotBreakThePage) {
  EXPECT_EQ(escape_html("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  EXPECT_EQ(escape_html("caf\xC3\xA9"), "caf\xC3\xA9");  // UTF-8 kept
  EXPECT_EQ(escape_html("a\xFF"
                        "b"),
            "a\xEF\xBF\xBD"
            "b");  // a stray byte becomes U+FFFD
  EXPECT_EQ(relative_href("sweep net/loss #1.csv"), "sweep%20net/loss%20%231.csv");
}

}  // namespace units_tests
}  // namespace fitreel::app
