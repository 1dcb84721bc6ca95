import type { RequestHandler } from "express";

/** `{{JO_HOST}}/{{BASE_PATH}}/...` with BASE_PATH=/authoring yields `//authoring/...`: collapse repeated slashes in the path. */
export const collapseSlashes: RequestHandler = (req, _res, next) => {
  const queryStart = req.url.indexOf("?");
  const path = queryStart === -1 ? req.url : req.url.slice(0, queryStart);
  if (path.includes("//")) {
    req.url = path.replace(/\/{2,}/g, "/") + (queryStart === -1 ? "" : req.url.slice(queryStart));
  }
  next();
};
