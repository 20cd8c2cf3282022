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
  // The same for read_xy_csv(path_, columns).
  void expect_columns_error(const std::string& content, const CsvColumns& columns,
                            std::initializer_list<const char*> parts) {
    write(content);
    try {
      read_xy_csv(path_, columns);
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

// Issue 12, case 10 and 13: what a file can be, and messages that name the real cause.
TEST_F(Csv, AUtf8ByteOrderMarkAtTheStartIsSkipped) {
  write(
      "\xEF\xBB\xBF"
      "0,1\n1,2\n2,3\n3,4\n4,5\n");
  const XyPoints points = read_xy_csv(path_);
  EXPECT_EQ(points.x[0][0].item<float>(), 0.0F);
  EXPECT_EQ(points.x.size(0), 5);
}
TEST_F(Csv, AByteOrderMarkIsNeverShownInsideACell) {
  write(
      "\xEF\xBB\xBF"
      "0,one\n");
  try {
    read_xy_csv(path_);
    FAIL();
  } catch (const CsvError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find(":1: column 2 (y) 'one' is not a number"), std::string::npos) << message;
    EXPECT_EQ(message.find("\xEF\xBB\xBF"), std::string::npos) << message;
  }
  expect_error(
      "0,1\n\xEF\xBB\xBF"
      "x,2\n",
      {":2:", "<U+FEFF>x"});
}
TEST_F(Csv, QuotedNumbersAreReadWithoutTheirQuotes) {
  write("\"x\",\"y\"\n\"0\",\"1.5\"\n1, \"2.5\" \n2,3\n3,4\n4,5\n");
  const XyPoints points = read_xy_csv(path_);
  ASSERT_EQ(points.x.size(0), 5);
  EXPECT_EQ(points.y[0][0].item<float>(), 1.5F);
  EXPECT_EQ(points.y[1][0].item<float>(), 2.5F);
}
TEST_F(Csv, QuotedCommaDecimalsSayCommasInQuotesAreNotSupported) {
  expect_error("0,1\n\"1,5\",2\n", {":2:", "found 3", "quoted", "decimal point"});
}
TEST_F(Csv, OutOfFloatRangeIsNotCalledNotANumber) {
  expect_error("0,1\n1,1e400\n", {":2:", "column 2 (y) '1e400'", "out of float range"});
  expect_error("0,1\n-1e39,1\n", {":2:", "column 1 (x)", "out of float range"});
  expect_error("1e400,1e400\n", {":1:", "out of float range"});  // not a header
}
// The bytes of a literal, NULs included.
template <size_t N>
std::string bytes(const char (&text)[N]) {
  return std::string(text, N - 1);
}

TEST_F(Csv, Utf16IsRecognisedWhateverItsByteOrder) {
  expect_error(bytes("\xFF\xFE"
                     "0\0,\0"
                     "1\0\n\0"),
               {":1:", "UTF-16", "save it as UTF-8"});
  expect_error(bytes("\xFE\xFF\0"
                     "0\0,\0"
                     "1"),
               {":1:", "UTF-16"});
  expect_error(bytes("0,1\n1,2\n2\0,3\n"), {":3:", "NUL byte", "UTF-16"});
}
TEST_F(Csv, OnlyRegularFilesAreRead) {
  const std::string folder = path_ + ".d";
  std::filesystem::create_directory(folder);
  try {
    read_xy_csv(folder);
    ADD_FAILURE();
  } catch (const CsvError& error) {
    EXPECT_EQ(std::string(error.what()), folder +
                                             " is a directory, not a regular file "
                                             "(only regular files are read)");
  }
  std::filesystem::remove(folder);
  try {
    read_xy_csv("/dev/zero");  // would read until memory runs out
    ADD_FAILURE();
  } catch (const CsvError& error) {
    EXPECT_NE(std::string(error.what()).find("/dev/zero is a character device"), std::string::npos);
  }
}
TEST_F(Csv, FilesOverTwoGibibytesAreRefusedUnread) {
  write("");
  std::filesystem::resize_file(path_, (std::uintmax_t{2} << 30) + 1);  // sparse: no disk used
  try {
    read_xy_csv(path_);
    ADD_FAILURE();
  } catch (const CsvError& error) {
    EXPECT_NE(std::string(error.what()).find("larger than 2 GiB"), std::string::npos)
        << error.what();
  }
}

// ---- read_xy_csv(path, CsvColumns): two columns of many, by name or index ----

// t, noise, signal = 2t + 1; noise holds words, which only a chosen column would refuse.
constexpr const char* kThreeColumns =
    "# a logger's export\nt,noise,signal\n0,n/a,1\n1,0.5,3\n 2 , x , 5 \n3,,7\n4,-1,9\n5,2,11\n";

TEST_F(Csv, ColumnsByNameReadThoseColumnsOfMany) {
  write(kThreeColumns);
  const XyPoints points =
      read_xy_csv(path_, CsvColumns{CsvColumn::named("t"), CsvColumn::named("signal")});
  ASSERT_EQ(points.x.sizes(), (std::vector<int64_t>{6, 1}));
  EXPECT_TRUE(torch::equal(points.y, 2 * points.x + 1)) << "x from t, y from signal";
  EXPECT_TRUE(torch::equal(points.x.flatten(), torch::arange(6, torch::kFloat32)));
}

TEST_F(Csv, ColumnsByIndexAndNameMixAndMatchTheSameCells) {
  write(kThreeColumns);
  const XyPoints by_name =
      read_xy_csv(path_, CsvColumns{CsvColumn::named("signal"), CsvColumn::named("t")});
  const XyPoints by_index = read_xy_csv(path_, CsvColumns{CsvColumn::at(2), CsvColumn::at(0)});
  const XyPoints mixed = read_xy_csv(path_, CsvColumns{CsvColumn::at(2), CsvColumn::named(" t ")});
  EXPECT_TRUE(torch::equal(by_name.x, by_index.x));
  EXPECT_TRUE(torch::equal(by_name.y, by_index.y));
  EXPECT_TRUE(torch::equal(by_name.x, mixed.x));
  EXPECT_TRUE(torch::equal(by_name.y, mixed.y));
  EXPECT_TRUE(torch::equal(by_name.x, 2 * by_name.y + 1)) << "x is signal now";
}

TEST_F(Csv, DefaultColumnsAreTheFirstTwoAndAllowMore) {
  write("1,2,3\n2,4,6\n3,6,9\n4,8,12\n5,10,15\n");
  const XyPoints points = read_xy_csv(path_, CsvColumns{});
  EXPECT_TRUE(torch::equal(points.y, 2 * points.x));
  EXPECT_EQ(points.x.size(0), 5);
  // Two columns exactly without a choice, as before.
  expect_error("1,2,3\n2,4,6\n3,6,9\n4,8,12\n5,10,15\n", {":1:", "expected 2 columns", "found 3"});
}

TEST_F(Csv, QuotedHeaderNamesMatchWithoutQuotes) {
  write("\"t\", \"signal\" ,\"other\"\n0,1,9\n1,3,9\n2,5,9\n3,7,9\n4,9,9\n");
  const XyPoints points =
      read_xy_csv(path_, CsvColumns{CsvColumn::named("t"), CsvColumn::named("signal")});
  EXPECT_TRUE(torch::equal(points.y, 2 * points.x + 1));
}

TEST_F(Csv, AnUnknownNameListsTheHeadersNames) {
  expect_columns_error(kThreeColumns, {CsvColumn::named("t"), CsvColumn::named("sig")},
                       {":2:", "no column named 'sig' (y)", "'t', 'noise', 'signal'"});
}

TEST_F(Csv, NamesNeedAHeaderLine) {
  expect_columns_error("0,1,2\n1,2,3\n", {CsvColumn::named("t"), CsvColumn::at(1)},
                       {":1:", "no column named 't'", "no header line", "0-based index"});
}

TEST_F(Csv, ANameTheHeaderGivesTwiceIsAmbiguous) {
  expect_columns_error("x,y,x\n1,2,3\n", {CsvColumn::named("x"), CsvColumn::named("y")},
                       {":1:", "'x'", "indices 0 and 2", "0-based index"});
}

TEST_F(Csv, AnIndexPastTheColumnsNamesTheCount) {
  expect_columns_error(kThreeColumns, {CsvColumn::at(0), CsvColumn::at(3)},
                       {":2:", "column index 3 (y)", "3 columns (indices 0 to 2)"});
}

TEST_F(Csv, RaggedRowsAreRefusedWithChosenColumnsToo) {
  expect_columns_error("t,noise,signal\n0,0,1\n1,3\n",
                       {CsvColumn::named("t"), CsvColumn::named("signal")},
                       {":3:", "expected 3 columns (as line 1 has), found 2"});
  expect_columns_error("0,0,1\n1,1,3\n2,\"2,5\",5\n", {CsvColumn::at(0), CsvColumn::at(2)},
                       {":3:", "found 4", "quoted"});
}

TEST_F(Csv, ChosenCellsMustBeNumbers) {
  expect_columns_error("t,noise,signal\n0,0,1\n1,1,three\n",
                       {CsvColumn::named("t"), CsvColumn::named("signal")},
                       {":3:", "column 'signal' (y) 'three' is not a number"});
  expect_columns_error("0,0,1\n1e400,1,3\n", {CsvColumn::at(0), CsvColumn::at(2)},
                       {":2:", "column index 0 (x) '1e400'", "out of float range"});
  expect_columns_error("0,0,1\n1,1,inf\n", {CsvColumn::at(0), CsvColumn::at(2)},
                       {":2:", "finite", "inf"});
}

TEST_F(Csv, AHeaderByIndexIsTwoWordsInTheChosenCells) {
  write(kThreeColumns);
  EXPECT_EQ(read_xy_csv(path_, CsvColumns{CsvColumn::at(0), CsvColumn::at(2)}).x.size(0), 6);
  expect_columns_error("t,noise,signal\n0,0,1\nt,noise,signal\n1,1,3\n",
                       {CsvColumn::at(0), CsvColumn::at(2)}, {":3:", "header", "after data rows"});
  expect_columns_error("t,noise,signal\nt,noise,signal\n",
                       {CsvColumn::named("t"), CsvColumn::at(2)},
                       {":2:", "after the header on line 1"});
}

TEST_F(Csv, ChosenColumnsStillNeedEnoughRows) {
  expect_columns_error("t,signal,z\n0,1,0\n1,3,0\n", {CsvColumn::named("t"), CsvColumn::at(1)},
                       {"2 data rows", "at least 5"});
  expect_columns_error("t,signal\n", {CsvColumn::named("t"), CsvColumn::at(1)}, {"no data rows"});
}

TEST(CsvColumnChoice, NegativeIndexAndBlankNameAreRefused) {
  EXPECT_THROW(CsvColumn::at(-1), InputError);
  EXPECT_THROW(CsvColumn::named(""), InputError);
  EXPECT_THROW(CsvColumn::named("  "), InputError);
  EXPECT_EQ(CsvColumn::named(" signal ").name(), "signal");
  EXPECT_FALSE(CsvColumn::at(3).by_name());
  EXPECT_EQ(CsvColumn::at(3).index(), 3);
}

}  // namespace
}  // namespace fitreel
