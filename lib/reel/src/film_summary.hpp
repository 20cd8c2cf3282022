#pragma once

#include <fitreel/data.hpp>
#include <fitreel/model_ref.hpp>
#include <fitreel/trainer.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace fitreel {
class Film;
}

namespace fitreel::detail {

/// A filmed run's summary as JSON text: what was trained and how, the losses at the landmark
/// epochs (0, 1, 2, 10, 100, ... and the last), the parameters before and after, the time, the
/// files. Non- finite numbers become null (JSON has no NaN).
std::string film_summary_json(const ModelRef& model, const Dataset& data,
                              const TrainOptions& options, const TrainResult& result,
                              const Film& film, const std::vector<std::string>& param_names,
                              const std::filesystem::path& params_file = {});

}  // namespace fitreel::detail
