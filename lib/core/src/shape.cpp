#include <fitreel/shape.hpp>

#include <torch/torch.h>

#include <sstream>

namespace fitreel {

void require_column(const torch::Tensor& tensor, std::string_view name) {
  if (tensor.defined() && tensor.dim() == 2 && tensor.size(1) == 1) {
    return;
  }
  std::ostringstream message;
  message << name << " must have shape (N, 1), one sample per row, but ";
  if (!tensor.defined()) {
    message << "is undefined";
  } else {
    message << "has shape " << tensor.sizes();
  }
  if (tensor.defined() && tensor.dim() == 1) {
    message << ": a Linear layer with one input would read it as one sample with " << tensor.size(0)
            << " features; reshape it with " << name << ".view({-1, 1})";
  }
  throw ShapeError(message.str());
}

}  // namespace fitreel
