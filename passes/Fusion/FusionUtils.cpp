//===- FusionUtils.cpp - What the fusion passes share ---------------------===//

#include "passes/Fusion/FusionUtils.h"

#include "mlir/Analysis/TopologicalSortUtils.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/SetVector.h"

using namespace mlir;

namespace prism::fusion {

ArrayRef<int64_t> shapeOf(Value value) {
  return cast<RankedTensorType>(value.getType()).getShape();
}

bool isTopLevel(Operation *op) {
  return isa_and_present<func::FuncOp>(op->getParentOp());
}

Operation *singleUser(Value value) {
  if (!value.hasOneUse())
    return nullptr;
  Operation *user = *value.getUsers().begin();
  Operation *def = value.getDefiningOp();
  Block *block = def ? def->getBlock() : cast<BlockArgument>(value).getOwner();
  return user->getBlock() == block ? user : nullptr;
}

bool isInnermostTransposed(Value value) {
  auto transpose = value.getDefiningOp<TransposeOp>();
  if (!transpose)
    return false;
  ArrayRef<int64_t> permutation = transpose.getPermutation();
  return !permutation.empty() &&
         permutation.back() != static_cast<int64_t>(permutation.size()) - 1;
}

bool isSplatConstant(Value value) {
  return FusionOp::isSplatConstant(value.getDefiningOp());
}

Value growElementwiseChain(Value current, SmallVectorImpl<Operation *> &chain) {
  ArrayRef<int64_t> shape = shapeOf(current);
  while (Operation *user = singleUser(current)) {
    if (!FusionOp::isElementwise(user) || !isTopLevel(user) ||
        shapeOf(user->getResult(0)) != shape)
      break;
    if (llvm::any_of(user->getOperands(), [&](Value operand) {
          return operand != current && isInnermostTransposed(operand);
        }))
      break;
    chain.push_back(user);
    current = user->getResult(0);
  }
  return current;
}

SmallVector<Operation *> collectElementwiseProducers(Operation *root,
                                                     ArrayRef<int64_t> shape) {
  llvm::SetVector<Operation *> group;
  group.insert(root);
  for (size_t i = 0; i < group.size(); ++i)
    for (Value operand : group[i]->getOperands()) {
      Operation *def = operand.getDefiningOp();
      if (def && FusionOp::isElementwise(def) && isTopLevel(def) &&
          singleUser(operand) == group[i] && shapeOf(operand) == shape)
        group.insert(def);
    }
  SmallVector<Operation *> ordered(group.begin(), group.end());
  llvm::sort(ordered, [](Operation *a, Operation *b) {
    return a->isBeforeInBlock(b);
  });
  return ordered;
}

FusionOp createFusion(FusionKind kind, ArrayRef<Operation *> ops,
                      ArrayRef<Value> results) {
  Operation *last = ops.back();
  OpBuilder builder(last->getContext());
  builder.setInsertionPointAfter(last);
  SmallVector<Location> locations;
  for (Operation *op : ops)
    locations.push_back(op->getLoc());
  Location loc = builder.getFusedLoc(locations);
  SmallVector<Type> types;
  for (Value v : results)
    types.push_back(v.getType());
  auto fusion = FusionOp::create(builder, loc, types, kind);
  Block *body = builder.createBlock(&fusion.getBody());
  for (Operation *op : ops)
    op->moveBefore(body, body->end());
  builder.setInsertionPointToEnd(body);
  YieldOp::create(builder, loc, results);
  for (auto [index, value] : llvm::enumerate(results))
    Value(value).replaceUsesWithIf(fusion.getResult(index), [&](OpOperand &use) {
      return !fusion->isProperAncestor(use.getOwner());
    });
  sortTopologically(fusion->getBlock());
  return fusion;
}

} // namespace prism::fusion
