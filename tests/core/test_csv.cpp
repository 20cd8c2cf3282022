#include <fitreel/csv.hpp>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace fitreel {
namespace {

class Csv : public ::testing::Test {
 protected:
  std::string write(const std::string& content) {
    std::ofstream(path_, std::ios::binary) << content;
    return path_;
  }
  void TearDown() override { std::filesystem::remove(path_); }
  // Asserts reading fails with a message that contains each of `parts`.
  void expect_error(const std::string& content, std::initializer_list<const char*> parts) {
    write(content);
    try {
      read_xy_csv(path_);
      ADD_FAILURE() << "accepted: " << content;
    } catch (const CsvError& error) {
      const std::string message = error.what();
      EXPECT_EQ(message.find('\n'), std::string::npos) << "one line: " << message;
      EXPECT_EQ(message.rfind(path_, 0), 0U) << "names the file: " << message;
      for (const char* part : parts) {
        EXPECT_NE(message.find(part), std::string::npos) << part << " in: " << message;
      }
    }
  }
  std::string path_ =
      (std::filesystem::temp_directory_path() /
       ("fitreel-csv-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
        ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".csv"))
          .string();
};

TEST_F(Csv, ReadsHeaderCommentsBlankLinesAndSpaces) {
  write("# measured on Tuesday\nx,y\n0,1\n 1 , 3.5 \n\n2,-2e1 # a comment\n+3,4\r\n4,5\n");
  const XyPoints points = read_xy_csv(path_);
  ASSERT_EQ(points.x.sizes(), (std::vector<int64_t>{5, 1}));
  EXPECT_TRUE(torch::equal(points.x.flatten(), torch::tensor({0.0F, 1.0F, 2.0F, 3.0F, 4.0F})));
  EXPECT_TRUE(torch::equal(points.y.flatten(), torch::tensor({1.0F, 3.5F, -20.0F, 4.0F, 5.0F})));
}

TEST_F(Csv, HeaderIsOptional) {
  write("0,0\n1,1\n2,2\n3,3\n4,4\n");
  EXPECT_EQ(read_xy_csv(path_).x.size(0), 5);
}

TEST_F(Csv, MissingFile) {
  try {
    read_xy_csv("/no/such/file.csv");
    FAIL();
  } catch (const CsvError& error) {
    EXPECT_NE(std::string(error.what()).find("/no/such/file.csv: cannot open"), std::string::npos);
  }
}

TEST_F(Csv, Empty) { expect_error("", {"no data rows"}); }
TEST_F(Csv, OnlyAHeader) { expect_error("x,y\n# nothing else\n", {"no data rows"}); }
TEST_F(Csv, OneColumn) { expect_error("x\n1\n2\n", {":1:", "expected 2 columns", "found 1"}); }
TEST_F(Csv, NonNumericCell) {
  expect_error("x,y\n1,2\n3,four\n5,6\n", {":3:", "column 2", "'four'", "not a number"});
}
TEST_F(Csv, NotANumberValue) { expect_error("1,2\n3,nan\n", {":2:", "finite", "nan"}); }
TEST_F(Csv, InfiniteValue) { expect_error("1,2\n-inf,3\n", {":2:", "finite", "-inf"}); }
TEST_F(Csv, TooFewRows) { expect_error("x,y\n1,2\n2,3\n3,4\n", {"3 data rows", "at least 5"}); }
TEST_F(Csv, RaggedRow) { expect_error("1,2\n3,4,5\n", {":2:", "expected 2 columns", "found 3"}); }
TEST_F(Csv, HeaderInTheMiddle) {
  expect_error("x,y\n1,2\n3,4\nx,y\n5,6\n", {":4:", "header", "after data rows"});
}

TEST_F(Csv, AMillionRowsLoad) {
  std::string text = "x,y\n";
  text.reserve(24'000'000);
  char row[48];
  for (int i = 0; i < 1'000'000; ++i) {
    std::snprintf(row, sizeof row, "%d,%.6f\n", i, 0.5 * i - 3.25);
    text += row;
  }
  write(text);
  const XyPoints points = read_xy_csv(path_);
  EXPECT_EQ(points.x.size(0), 1'000'000);
  EXPECT_EQ(points.y[999'999][0].item<float>(), static_cast<float>(0.5 * 999'999 - 3.25));
}

}  // namespace
}  // namespace fitreel
