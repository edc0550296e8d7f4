"""The cases behind ./grade.sh 1b's expected values (autograder/make_fixtures.py runs them).

Each case is a model of Linear, BatchNorm1d, ReLU and Dropout layers run for some
steps (make_fixtures.model_case).  Dropout follows the course's convention: before
every training forward the grader calls ``np.random.seed(step seed)``, and each Dropout
layer, in forward order, draws ``np.random.binomial(1, 1 - p, size=x.shape)`` once.
"""
from autograder.make_fixtures import model_case

ADAM = {"optimizer": "adam", "lr": 0.01, "betas": (0.9, 0.999), "eps": 1e-8}


def bonus_cases(store):
    # Adam: a Linear model, then a bigger one with cross-entropy
    model_case(store, "adam_linear", 41, [("linear", 10, 6)], ["train"] * 5,
               [8, 8, 5, 12, 8], **ADAM)
    model_case(store, "adam_big", 42, [("linear", 10, 16), ("relu",), ("linear", 16, 12),
                                       ("relu",), ("linear", 12, 5)],
               ["train"] * 8, [8, 3, 12, 8, 8, 1, 9, 8], loss="xe",
               optimizer="adam", lr=0.005, betas=(0.8, 0.99), eps=1e-3)
    # Dropout: Linear -> ReLU -> Dropout, forward (and eval), backward; then the big model
    model_case(store, "dropout_forward", 43, [("linear", 12, 20), ("relu",), ("dropout", 0.3)],
               ["train", "eval", "train", "train"], [10, 10, 7, 16])
    model_case(store, "dropout_backward", 44, [("linear", 12, 20), ("relu",), ("dropout", 0.4)],
               ["train", "train", "train"], [10, 4, 16])
    model_case(store, "dropout_big", 45, [("linear", 12, 24), ("bn", 24), ("relu",),
                                          ("dropout", 0.4), ("linear", 24, 16), ("bn", 16),
                                          ("relu",), ("dropout", 0.2), ("linear", 16, 10)],
               ["train"] * 5 + ["eval"], [16, 16, 9, 16, 20, 16], loss="xe", **ADAM)
    # BatchNorm inside models: Linear -> BatchNorm1d -> ReLU, then two such blocks
    # (no optimizer: Adam is not under test there)
    block = [("linear", 10, 8), ("bn", 8), ("relu",)]
    model_case(store, "bn_forward", 46, block, ["train"] * 3, [6, 11, 4])
    model_case(store, "bn_backward", 47, block, ["train"] * 3, [6, 11, 4])
    model_case(store, "bn_train_eval", 48, block, ["train", "train", "eval", "train", "eval"],
               [6, 11, 5, 4, 9])
    model_case(store, "bn_big", 49, block + [("linear", 8, 12), ("bn", 12), ("relu",)],
               ["train", "train", "eval", "train", "train", "eval", "train", "eval"],
               [16, 9, 7, 20, 5, 16, 12, 3])


FILES = {"bonus.npz": [bonus_cases]}
