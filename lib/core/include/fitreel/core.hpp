#pragma once

// fitreel::core in one include: data, models, training, evaluation, checkpoints, CSV files.
// LibTorch only (no OpenCV).

#include <fitreel/batched.hpp>
#include <fitreel/checkpoint.hpp>
#include <fitreel/choices.hpp>
#include <fitreel/csv.hpp>
#include <fitreel/data.hpp>
#include <fitreel/demos.hpp>
#include <fitreel/device.hpp>
#include <fitreel/error.hpp>
#include <fitreel/evaluate.hpp>
#include <fitreel/files/atomic_file.hpp>
#include <fitreel/loss_history.hpp>
#include <fitreel/model.hpp>
#include <fitreel/model_ref.hpp>
#include <fitreel/runtime.hpp>
#include <fitreel/schedule.hpp>
#include <fitreel/shape.hpp>
#include <fitreel/snapshot.hpp>
#include <fitreel/trainer.hpp>
#include <fitreel/version.hpp>
