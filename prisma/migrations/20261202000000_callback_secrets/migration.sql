-- AlterTable
ALTER TABLE "orgs" ADD COLUMN     "callback_secret" TEXT,
ADD COLUMN     "callback_secret_rotated_at" TIMESTAMP(3),
ADD COLUMN     "previous_callback_secret" TEXT;
